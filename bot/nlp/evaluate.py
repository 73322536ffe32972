"""`make eval`: score the NLP on the dev data and list every miss; then the blind rounds.

    python -m bot.nlp.evaluate [DATA_DIR] [--blind BLIND_DIR]

DATA_DIR holds `needs_dev.tsv`, `dates_dev.tsv` and `visits_dev.tsv` (tab-separated, `#` header
lines). The default is the project's shared folder (`../shared/data`) when it exists, else the
copies in `tests/data/`. Prints primary accuracy, micro-F1 over categories, crisis recall and
false alarms, date accuracy and the accuracy of each visit field against the targets of the NLP
issue, then the misses; exits 1 when a dev target is not met.

BLIND_DIR (default `tests/data/blind/`) holds the blind rounds (`blind.py`): every
`crisis_*.tsv` and `needs_*.tsv` is scored and its figures printed with their targets and
verdicts, per round and per style, but never its messages (the rounds stay blind to whoever
runs this), and they do not change the exit status.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.nlp.analysis import NLP, PlaceUnit, build_segmenter
from bot.nlp.blind import BLIND_DIR, score_blind
from bot.nlp.crisis_model import Tokenize
from bot.nlp.scoring import Metric, micro_f1
from storage.orgtree import load_units

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = (ROOT.parent / "shared" / "data", ROOT / "tests" / "data")
NEEDS_REF = date(2026, 3, 18)  # needs_dev has no reference date; only crisis/need are scored


@dataclass
class Report:
    """All metrics and the misses behind them."""

    metrics: list[Metric] = field(default_factory=list)
    misses: dict[str, list[str]] = field(default_factory=dict)

    def miss(self, kind: str, text: str) -> None:
        """Record one miss under `kind`."""
        self.misses.setdefault(kind, []).append(text)

    @property
    def ok(self) -> bool:
        """True when every target is met."""
        return all(m.met for m in self.metrics)


def rows(path: Path) -> list[list[str]]:
    """The data rows of a dev file (comment lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def _none(value: str) -> str | None:
    return None if value in ("none", "-", "") else value


def score_needs(nlp: NLP, path: Path, report: Report) -> None:
    """Primary accuracy, micro-F1 over categories, crisis recall and false-alarm rate."""
    data = rows(path)
    right = tp = fp = fn = crisis_hit = crisis_total = alarms = calm_total = 0
    for text, primary, cats, crisis in data:
        found = nlp.analyze(text, NEEDS_REF)
        expected, got = set(cats.split(",")), set(found.categories)
        right += found.primary == primary
        tp, fp, fn = tp + len(expected & got), fp + len(got - expected), fn + len(expected - got)
        if found.primary != primary or expected != got:
            report.miss(
                "needs",
                f"{text}  want {primary}/{cats}  got {found.primary}/{','.join(found.categories)}",
            )
        if crisis == "1":
            crisis_total += 1
            crisis_hit += found.crisis
            if not found.crisis:
                report.miss("crisis missed", text)
        else:
            calm_total += 1
            alarms += found.crisis
            if found.crisis:
                report.miss("crisis false alarm", text)
    f1 = micro_f1(tp, fp, fn)
    report.metrics += [
        Metric("primary accuracy", right / len(data), 0.95),
        Metric("category micro-F1", f1, 0.92),
        Metric("crisis recall", crisis_hit / crisis_total if crisis_total else 1.0, 1.0),
        Metric(
            "crisis false-alarm rate",
            alarms / calm_total if calm_total else 0.0,
            0.02,
            at_most=True,
        ),
    ]


def score_dates(nlp: NLP, path: Path, report: Report) -> None:
    """Share of rows whose date (or null) is right."""
    data = rows(path)
    right = 0
    for ref, text, expected in data:
        got = nlp.analyze(text, date.fromisoformat(ref)).date
        shown = got.isoformat() if got else None
        right += shown == _none(expected)
        if shown != _none(expected):
            report.miss("dates", f"{text} (ref {ref})  want {expected}  got {shown}")
    report.metrics.append(Metric("date accuracy", right / len(data), 0.98))


VISIT_FIELDS: dict[str, Callable[[list[str]], str | None]] = {
    "date": lambda r: _none(r[2]),
    "district": lambda r: _none(r[3]),
    "street": lambda r: _none(r[4]),
    "community": lambda r: _none(r[5]),
    "visit_form": lambda r: _none(r[6]),
}


def score_visits(nlp: NLP, path: Path, report: Report) -> None:
    """Accuracy of each visit field (and of the category set, reported without a target)."""
    data = rows(path)
    right = dict.fromkeys([*VISIT_FIELDS, "categories"], 0)
    for row in data:
        analysis = nlp.analyze(row[1], date.fromisoformat(row[0]))
        found = analysis.to_json()
        for name, expected in VISIT_FIELDS.items():
            got = found[name]
            if got == expected(row):
                right[name] += 1
            else:
                report.miss(f"visit {name}", f"{row[1]}  want {expected(row)}  got {got}")
        cats = set(row[7].split(",")) if _none(row[7]) else set()
        right["categories"] += set(analysis.categories) == cats
    for name in VISIT_FIELDS:
        report.metrics.append(Metric(f"visit {name}", right[name] / len(data), 0.95))
    report.metrics.append(Metric("visit categories (exact)", right["categories"] / len(data), None))


def evaluate(nlp: NLP, data_dir: Path) -> Report:
    """Score all three dev files in `data_dir`."""
    report = Report()
    score_needs(nlp, data_dir / "needs_dev.tsv", report)
    score_dates(nlp, data_dir / "dates_dev.tsv", report)
    score_visits(nlp, data_dir / "visits_dev.tsv", report)
    return report


def seed_units() -> list[PlaceUnit]:
    """The seed gazetteer's units (the same units the database is seeded with)."""
    return [
        PlaceUnit(district=r.district, name=r.name, kind=r.kind, aliases=r.aliases)
        for r in load_units()
    ]


def load_nlp() -> NLP:
    """The NLP over the seed gazetteer."""
    return NLP.load(seed_units())


def load_segmenter() -> Tokenize:
    """The tokenizer of `load_nlp()`, without the crisis model (what the model trains on)."""
    return build_segmenter(seed_units()).tokens


def main(argv: list[str] | None = None) -> int:
    """Print the scores and misses; return 1 when a target is missed."""
    args = list(sys.argv[1:] if argv is None else argv)
    blind_dir = BLIND_DIR
    if "--blind" in args:
        at = args.index("--blind")
        blind_dir = Path(args[at + 1])
        del args[at : at + 2]
    data_dir = Path(args[0]) if args else next(p for p in CANDIDATES if p.is_dir())
    started = time.perf_counter()
    nlp = load_nlp()
    loaded = time.perf_counter() - started
    report = evaluate(nlp, data_dir)
    print(f"fuqing NLP evaluation on {data_dir} (NLP.load {loaded:.2f} s)")
    for metric in report.metrics:
        print("  " + metric.line())
    for kind, texts in report.misses.items():
        print(f"\n{kind} ({len(texts)}):")
        for text in texts:
            print(f"  - {text}")
    print("\nall targets met" if report.ok else "\nSOME TARGETS NOT MET")
    for line in score_blind(nlp, blind_dir):
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
