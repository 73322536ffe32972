"""Blind rounds: read `crisis_*.tsv` and `needs_*.tsv` from a folder and score them.

A crisis round has the columns text, label (crisis | safety_check | none), kind, style; a needs
round text, primary, categories (comma-separated), style. `#` lines are comments; kind and style
may be missing (shown as "-"). The figures, per round and per style:

- crisis recall: crisis labels flagged crisis;
- danger recall: crisis or safety_check labels flagged crisis or safety_check (target ≥ 0.97);
- false alarms: none labels flagged crisis (target ≤ 5 %);
- safety checks on none: none labels flagged safety_check (target ≤ 10 %);
- needs: primary accuracy (≥ 0.95), micro-F1 over categories (≥ 0.92), share without a primary.

Only figures are returned, never a round's messages: whoever runs `make eval` stays blind.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.analysis import NLP, Analysis
from bot.nlp.crisis_train import TRAINED_ROUNDS
from bot.nlp.need_train import TRAINED_NEEDS_ROUNDS
from bot.nlp.scoring import Metric, micro_f1

BLIND_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "blind"
REF = dt.date(2026, 3, 18)
CRISIS_LABELS = ("crisis", "safety_check", "none")
DANGER_RECALL = 0.97
MAX_FALSE_ALARMS = 0.05
MAX_CHECKS = 0.10


@dataclass(frozen=True)
class CrisisRow:
    """One message of a crisis round."""

    text: str
    label: str
    kind: str
    style: str


@dataclass(frozen=True)
class NeedsRow:
    """One message of a needs round."""

    text: str
    primary: str
    categories: tuple[str, ...]
    style: str


def _fields(path: Path) -> list[list[str]]:
    """The tab-separated data lines of a round (comments and blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        [f.strip() for f in line.split("\t")]
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def read_crisis_round(path: Path) -> list[CrisisRow]:
    """The rows of a crisis round; a label outside crisis/safety_check/none is an error."""
    rows = []
    for n, f in enumerate(_fields(path), 1):
        f += ["-"] * (4 - len(f))
        if f[1] not in CRISIS_LABELS:
            raise ValueError(f"{path.name}: data row {n}: unknown label {f[1]!r}")
        rows.append(CrisisRow(f[0], f[1], f[2] or "-", f[3] or "-"))
    return rows


def read_needs_round(path: Path) -> list[NeedsRow]:
    """The rows of a needs round."""
    rows = []
    for n, f in enumerate(_fields(path), 1):
        if len(f) < 3:
            raise ValueError(f"{path.name}: data row {n}: expected text, primary, categories")
        f += ["-"] * (4 - len(f))
        cats = tuple(c.strip() for c in f[2].split(",") if c.strip())
        rows.append(NeedsRow(f[0], f[1], cats, f[3] or "-"))
    return rows


def crisis_metrics(rows: list[CrisisRow], readings: list[Analysis]) -> list[Metric]:
    """Crisis recall, danger recall, false alarms and safety checks on none."""
    pairs = list(zip(rows, readings, strict=True))
    crisis = [r for row, r in pairs if row.label == "crisis"]
    danger = [r for row, r in pairs if row.label != "none"]
    calm = [r for row, r in pairs if row.label == "none"]

    def share(items: list[Analysis], hit: bool | None = None, *, check: bool = False) -> float:
        if not items:
            return 0.0
        if check:
            return sum(r.safety_check for r in items) / len(items)
        if hit:
            return sum(r.crisis or r.safety_check for r in items) / len(items)
        return sum(r.crisis for r in items) / len(items)

    return [
        Metric(f"crisis recall ({len(crisis)})", share(crisis) if crisis else 1.0, None),
        Metric(
            f"danger recall ({len(danger)})",
            share(danger, True) if danger else 1.0,
            DANGER_RECALL,
        ),
        Metric(f"false alarms ({len(calm)})", share(calm), MAX_FALSE_ALARMS, at_most=True),
        Metric(
            f"safety checks on none ({len(calm)})",
            share(calm, check=True),
            MAX_CHECKS,
            at_most=True,
        ),
    ]


def needs_metrics(rows: list[NeedsRow], readings: list[Analysis]) -> list[Metric]:
    """Primary accuracy, micro-F1 over categories, share of messages without a primary."""
    right = tp = fp = fn = unread = 0
    for row, r in zip(rows, readings, strict=True):
        right += r.primary == row.primary
        unread += r.primary is None
        want, got = set(row.categories), set(r.categories)
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    f1 = micro_f1(tp, fp, fn)
    total = len(rows) or 1
    return [
        Metric(f"primary accuracy ({len(rows)})", right / total, 0.95),
        Metric("category micro-F1", f1, 0.92),
        Metric("without a primary", unread / total, 0.0, at_most=True),
    ]


def _by_style(rows: Iterable[CrisisRow | NeedsRow]) -> dict[str, list[int]]:
    """Row indices grouped by style, styles sorted."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[row.style].append(i)
    return dict(sorted(groups.items()))


def score_blind(nlp: NLP, blind_dir: Path = BLIND_DIR) -> list[str]:
    """The report lines of every blind round in blind_dir (none when there is no such folder)."""
    if not blind_dir.is_dir():
        return []
    lines = [f"\nblind rounds in {blind_dir} (reported only; the exit status follows the dev data)"]
    unseen: list[tuple[CrisisRow, Analysis]] = []
    for path in sorted(blind_dir.glob("crisis_*.tsv")):
        crows = read_crisis_round(path)
        readings = [nlp.analyze(row.text, REF) for row in crows]
        lines += _section(_heading(path, TRAINED_ROUNDS, "crisis"), crisis_metrics(crows, readings))
        for style, idx in _by_style(crows).items():
            metrics = crisis_metrics([crows[i] for i in idx], [readings[i] for i in idx])
            lines.append(f"    style {style:<14}" + "  ".join(_short(m) for m in metrics))
        if path.stem not in TRAINED_ROUNDS:
            unseen += zip(crows, readings, strict=True)
    if unseen:
        pooled = crisis_metrics([row for row, _ in unseen], [reading for _, reading in unseen])
        lines += _section("all unseen crisis rounds together", pooled)
    for path in sorted(blind_dir.glob("needs_*.tsv")):
        nrows = read_needs_round(path)
        readings = [nlp.analyze(row.text, REF) for row in nrows]
        lines += _section(
            _heading(path, TRAINED_NEEDS_ROUNDS, "need"), needs_metrics(nrows, readings)
        )
        for style, idx in _by_style(nrows).items():
            metrics = needs_metrics([nrows[i] for i in idx], [readings[i] for i in idx])
            lines.append(f"    style {style:<14}" + "  ".join(_short(m) for m in metrics))
    return lines


def _heading(path: Path, trained: tuple[str, ...], model: str) -> str:
    """A round's name, marked as the `model` model's training data or as unseen."""
    if path.stem in trained:
        return f"{path.name} (the {model} model trains on it: figures in sample)"
    return f"{path.name} (unseen)"


def _section(name: str, metrics: list[Metric]) -> list[str]:
    """A round's heading and its figures with targets and verdicts."""
    return [f"\n{name}:", *("  " + m.line() for m in metrics)]


def _short(metric: Metric) -> str:
    """'danger recall (12) 0.917*' — a star marks a missed target."""
    return f"{metric.name} {metric.value:.3f}{'' if metric.met else '*'}"
