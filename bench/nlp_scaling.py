"""NLP scaling benchmark: the cost of analyze() per character, from 100 to 20,000 characters.

    python bench/nlp_scaling.py [--sizes 100,500,…] [--budget SECONDS]

Texts: realistic (the dev messages of tests/data joined until the size is reached) and
adversarial (one unit repeated: a lexicon term, a negated term, the characters that start the
most patterns, runs of digits, of Chinese numerals, of 不, of punctuation, of open quotes, phone
numbers, a past self-harm story). Linear growth shows as a flat cost per character; the last
column is the per-character cost at the largest size over that at the smallest. Times are this
process's CPU time (best of up to three runs), so other work on a shared machine barely shows.
A case stops growing once one size took longer than the budget. Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runs from a checkout even when the package is not installed
sys.path.insert(0, str(ROOT / "bench"))

from nlp import corpus  # noqa: E402  (bench/nlp.py: the dev messages)

SIZES = (100, 500, 1_000, 2_000, 5_000, 10_000, 20_000)
REF = date(2026, 3, 18)
#: adversarial cases: a name and the unit repeated to the size
UNITS: tuple[tuple[str, str], ...] = (
    ("term 找工作", "找工作"),
    ("negated 不需要找工作", "不需要找工作"),
    ("一 (starts most patterns)", "一"),
    ("不", "不"),
    ("想", "想"),
    ("digits 1", "1"),
    ("numerals 五", "五"),
    ("punctuation ！", "！"),
    ("open quotes “", "“"),
    ("landlines", "010 12345678 "),
    ("past story 以前想过轻生", "以前想过轻生"),
    ("amounts 3块", "3块"),
)


def realistic(size: int) -> str:
    """The dev messages joined with 。 until `size` characters."""
    texts = corpus()
    out: list[str] = []
    length = 0
    i = 0
    while length < size:
        text = texts[i % len(texts)] + "。"
        out.append(text)
        length += len(text)
        i += 1
    return "".join(out)[:size]


def repeated(unit: str, size: int) -> str:
    """`unit` repeated to exactly `size` characters."""
    return (unit * (size // len(unit) + 1))[:size]


def seconds_per_call(analyze: object, text: str) -> float:
    """The best of a few timed runs of analyze(text) (one run when a run is slow)."""
    best = float("inf")
    spent = 0.0
    runs = 0
    while runs < 3 and (runs == 0 or spent < 0.5):
        started = time.process_time()
        analyze(text, REF)  # type: ignore[operator]
        took = time.process_time() - started
        best, spent, runs = min(best, took), spent + took, runs + 1
        if took > 2:
            break
    return best


def main() -> None:
    """Time every case at every size and print µs per character."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--budget", type=float, default=30.0, help="seconds; larger sizes skipped")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from bot.nlp.evaluate import load_nlp

    nlp = load_nlp()
    cases = [("realistic (dev messages)", lambda n: realistic(n))]
    cases += [(name, lambda n, u=unit: repeated(u, n)) for name, unit in UNITS]

    header = "".join(f"{s:>9,}" for s in sizes)
    print("analyze(): µs per character at each size; last: per-char cost largest/smallest")
    print(f"{'case':<28}{header}    ratio")
    worst: tuple[float, str] = (0.0, "")
    for name, make in cases:
        cells: list[str] = []
        per_char: list[float] = []
        for size in sizes:
            took = seconds_per_call(nlp.analyze, make(size))
            per_char.append(took / size * 1e6)
            cells.append(f"{per_char[-1]:9.2f}")
            if size == sizes[-1]:
                worst = max(worst, (took, name))
            if took > args.budget:
                cells += [f"{'—':>9}"] * (len(sizes) - len(cells))
                break
        done = len(per_char) == len(sizes)
        ratio = f"{per_char[-1] / per_char[0]:8.1f}" if done else "  (over budget)"
        print(f"{name:<28}{''.join(cells)}{ratio}", flush=True)
    if worst[1]:
        print(f"slowest at {sizes[-1]:,} characters: {worst[1]}, {worst[0] * 1000:,.0f} ms")


if __name__ == "__main__":
    main()
