"""The real NLP, wrapped to record what it reads and, on request, to hold a long analysis.

    recording = RecordingNLP(nlp)                  # .texts: every text analyze() was given
    held = RecordingNLP(nlp, hold_over=1000)       # analyze() of a longer text waits …
    await asyncio.to_thread(held.started.wait, HOLD_SECONDS)   # … once it has begun,
    held.release.set()                             # until released; `finished` is set after

A held analysis waits in whatever thread runs it: the writer thread leaves the event loop free,
the event loop itself would stall everything. `HOLD_SECONDS` only guards against a hang.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from bot.nlp import NLP, Analysis

HOLD_SECONDS = 15.0


class RecordingNLP:
    """Delegates to a real `NLP`; records analyze()'s texts; holds those over `hold_over`."""

    def __init__(self, nlp: NLP, *, hold_over: int | None = None) -> None:
        self._nlp = nlp
        self.hold_over = hold_over
        self.texts: list[str] = []
        self.started = threading.Event()  # a held analysis has begun
        self.release = threading.Event()  # let it go on
        self.finished = threading.Event()  # it has returned

    def analyze(self, text: str, ref: date) -> Analysis:
        """The real analysis of `text`, recorded (and held first when it is long)."""
        self.texts.append(text)
        if self.hold_over is None or len(text) <= self.hold_over:
            return self._nlp.analyze(text, ref)
        self.started.set()
        self.release.wait(HOLD_SECONDS)
        try:
            return self._nlp.analyze(text, ref)
        finally:
            self.finished.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._nlp, name)
