"""`make eval` (bot.nlp.evaluate) scores the dev copies and meets the NLP issue's targets."""

from __future__ import annotations

from pathlib import Path

from bot.nlp import NLP
from bot.nlp.evaluate import Metric, evaluate, main

DATA = Path(__file__).resolve().parents[1] / "data"


def test_dev_targets_are_met(nlp: NLP) -> None:
    """Every metric with a target meets it on the dev data; misses are listed otherwise."""
    report = evaluate(nlp, DATA)
    failing = [m.line() for m in report.metrics if not m.met]
    assert not failing, "\n".join(failing + [f"{k}: {v}" for k, v in report.misses.items()])


def test_metric_targets() -> None:
    """A metric is met at its target, above it (or below for at-most), and never without one."""
    assert Metric("a", 0.95, 0.95).met and not Metric("a", 0.94, 0.95).met
    assert (
        Metric("f", 0.01, 0.02, at_most=True).met and not Metric("f", 0.03, 0.02, at_most=True).met
    )
    assert Metric("info", 0.1, None).met and "no target" in Metric("info", 0.1, None).line()


def test_main_prints_the_report(capsys) -> None:  # type: ignore[no-untyped-def]
    """The command prints every figure and says whether all targets are met."""
    assert main([str(DATA)]) == 0
    out = capsys.readouterr().out
    for name in (
        "primary accuracy",
        "category micro-F1",
        "crisis recall",
        "date accuracy",
        "visit street",
    ):
        assert name in out
    assert "all targets met" in out
