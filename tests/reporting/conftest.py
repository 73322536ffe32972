"""Fixtures of the reporting tests: the dataset's compiled 2026Q1 figures of 朝阳区."""

from __future__ import annotations

import pytest

from bot.domain.figures import QuarterFigures
from bot.domain.quarters import Quarter
from bot.nlp import NLP
from bot.reporting.figures import compile_figures
from storage.db import Database
from tests.reporting.dataset import TZ, at, build

Q1 = Quarter.parse("2026Q1")
NOW = at(2026, 4, 12)  # when the figures are compiled (deadlines judged then)


@pytest.fixture
def compiled(database: Database, nlp: NLP) -> QuarterFigures:
    """The 2026Q1 figures of 朝阳区 over the dataset."""
    with database.transaction() as session:
        data = build(session)
        return compile_figures(session, unit=data.district, quarter=Q1, nlp=nlp, tz=TZ, now=NOW)
