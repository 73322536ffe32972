"""`bot.domain.figures`: the typed quarterly figures read and write the JSON stored before
they existed (tests/data/figures_v1.json, written by the dict-based code), field for field,
also through a database row, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.domain.figures import FIGURES_VERSION, QuarterFigures
from bot.domain.quarters import Quarter, TableHolidays
from bot.nlp import NLP
from bot.reporting.figures import quarter_overview
from storage import repo
from storage.db import Database

STORED = Path(__file__).parent.parent / "data" / "figures_v1.json"
NOW = datetime(2026, 4, 9, 2, tzinfo=UTC)


def _stored() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(STORED.read_text(encoding="utf-8"))
    return found


def test_stored_json_loads_and_writes_back_unchanged() -> None:
    """A version-1 snapshot loads into the models and dumps to the very same JSON."""
    stored = _stored()
    figures = QuarterFigures.from_json(stored)
    assert figures.version == FIGURES_VERSION == stored["version"]
    assert figures.to_json() == stored
    assert json.dumps(figures.to_json(), ensure_ascii=False, sort_keys=True) == json.dumps(
        stored, ensure_ascii=False, sort_keys=True
    )


def test_the_models_read_as_attributes() -> None:
    """The figures the chat, files and console read are typed attributes, not string keys."""
    figures = QuarterFigures.from_json(_stored())
    assert (figures.unit, figures.quarter, figures.visits.total) == ("朝阳区", "2026Q1", 4)
    assert figures.requests.median_days_to_resolve == 7.5
    assert figures.needs[0].label == "岗位"
    assert figures.coverage.kinds["household"].held >= 0
    assert figures.satisfaction.count("satisfied") == figures.satisfaction.satisfied
    assert figures.problems.terms[0].change == figures.problems.terms[0].count - figures.problems.terms[0].previous  # fmt: skip


def test_a_snapshot_missing_a_section_is_refused() -> None:
    """JSON without a section is a ValidationError, not a KeyError deep in a renderer."""
    broken = _stored()
    del broken["coverage"]
    with pytest.raises(ValidationError):
        QuarterFigures.from_json(broken)


def test_a_row_stored_before_the_models_loads_from_the_database(
    database: Database, nlp: NLP, holidays: TableHolidays
) -> None:
    """A submitted report whose figures column holds the old JSON comes back through
    `quarter_overview` as typed figures equal to it."""
    stored = _stored()
    with database.transaction() as session:
        unit = repo.unit_by_path(session, path="朝阳区")
        assert unit is not None
        report = repo.report_for(session, unit_id=unit.id or 0, quarter="2026Q1", now=NOW)
        repo.submit_report(session, report=report, figures=stored, remark=None, by=None, now=NOW)
    with database.read() as session:
        found = quarter_overview(
            session,
            quarter=Quarter(2026, 1),
            units=[unit],
            nlp=nlp,
            tz=ZoneInfo("Asia/Shanghai"),
            due_days=10,
            now=datetime(2026, 4, 12, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
            calendar=holidays,
        )
    entry = found.units[0]
    assert (entry.status, entry.review, entry.due_date) == ("submitted", "submitted", "2026-04-10")
    assert entry.figures == QuarterFigures.from_json(stored)
    assert found.to_json()["units"][0]["figures"] == stored
