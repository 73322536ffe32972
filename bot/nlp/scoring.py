"""A figure of `make eval` with its target and verdict (dev data and blind rounds alike)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Metric:
    """One figure with its target (`at_least` or `at_most`)."""

    name: str
    value: float
    target: float | None  # None: shown for information only
    at_most: bool = False

    @property
    def met(self) -> bool:
        """True when the figure meets its target."""
        if self.target is None:
            return True
        return self.value <= self.target if self.at_most else self.value >= self.target

    def line(self) -> str:
        """'primary accuracy        0.961  (target >= 0.95)  ok'."""
        if self.target is None:
            return f"{self.name:<28}{self.value:7.3f}  (no target)"
        sign = "<=" if self.at_most else ">="
        verdict = "ok" if self.met else "BELOW TARGET"
        return f"{self.name:<28}{self.value:7.3f}  (target {sign} {self.target})  {verdict}"


def micro_f1(tp: int, fp: int, fn: int) -> float:
    """Micro-averaged F1 from true positive, false positive and false negative counts."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
