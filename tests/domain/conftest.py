"""Fixtures of the domain tests: the fixed holiday table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.quarters import TableHolidays

HOLIDAYS_CSV = Path(__file__).parent.parent / "data" / "holidays.csv"


@pytest.fixture(scope="session")
def holidays() -> TableHolidays:
    """A few real 2025/2026 holidays and 调休 workdays (tests/data/holidays.csv)."""
    return TableHolidays.from_csv(HOLIDAYS_CSV)
