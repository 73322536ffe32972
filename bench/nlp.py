"""NLP benchmark: analyze() throughput against bare jieba.lcut, cold start, resident memory.

    python bench/nlp.py [--rounds N]

The corpus mixes the need, date and visit texts in tests/data (about 460 messages). Goals from
the NLP issue: analyze() at least half of jieba's speed; the NLP's resident memory under 150 MB.
Prints figures and ratios; never asserts.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runs from a checkout even when the package is not installed


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def corpus() -> list[str]:
    """Every text of the dev copies in tests/data."""
    texts = []
    for name, column in (("needs_dev.tsv", 0), ("dates_dev.tsv", 1), ("visits_dev.tsv", 1)):
        for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                texts.append(line.split("\t")[column])
    return texts


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the corpus")
    rounds = parser.parse_args().rounds
    texts = corpus()
    base_rss = rss_mb()

    started = time.perf_counter()
    from bot.nlp.evaluate import load_nlp  # imports included in the cold start

    nlp = load_nlp()
    cold = time.perf_counter() - started
    gc.collect()
    nlp_rss = rss_mb() - base_rss

    import jieba

    bare = jieba.Tokenizer()
    bare.initialize()
    for text in texts[:50]:  # warm both paths
        bare.lcut(text)
        nlp.analyze(text, date(2026, 3, 18))

    ref = date(2026, 3, 18)
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            bare.lcut(text)
    jieba_rate = rounds * len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            nlp.analyze(text, ref)
    analyze_rate = rounds * len(texts) / (time.perf_counter() - started)

    print(f"corpus: {len(texts)} texts × {rounds} rounds")
    print(f"cold start (imports + NLP.load): {cold:.2f} s")
    print(
        f"resident memory of the NLP after loading: {nlp_rss:.1f} MB (goal < 150 MB); "
        f"process total {rss_mb():.1f} MB"
    )
    print(f"jieba.lcut: {jieba_rate:,.0f} texts/s")
    print(f"analyze():  {analyze_rate:,.0f} texts/s ({1e6 / analyze_rate:.0f} µs each)")
    print(f"ratio analyze/jieba: {analyze_rate / jieba_rate:.2f} (goal >= 0.5)")


if __name__ == "__main__":
    main()
