"""What counts as an urgent case nobody has accepted (bot/domain/urgency.py): a crisis request
still `new`; counted within a set of units, or the whole city."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import requests, urgency
from storage import repo
from storage.db import Database
from tests.factories import help_request

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_waiting_is_every_status_before_someone_accepts() -> None:
    """Accepted means taken or assigned, or any status after: only `new` waits."""
    assert urgency.WAITING == ("new",)
    assert all(s in requests.STATES for s in urgency.WAITING)


@pytest.mark.parametrize(
    ("crisis", "status", "waiting"),
    [
        (True, "new", True),
        (True, "assigned", False),
        (True, "in_progress", False),
        (True, "resolved", False),
        (True, "cancelled", False),
        (False, "new", False),
    ],
)
def test_is_waiting(sqlite_database: Database, crisis: bool, status: str, waiting: bool) -> None:
    """A request waits only when it is a crisis and nobody has accepted it."""
    with sqlite_database.transaction() as session:
        request = help_request(session, crisis=crisis, now=NOW)
        request.status = status
        assert urgency.is_waiting(request) is waiting


def test_count_waiting_within_units(sqlite_database: Database) -> None:
    """The count covers the given units only (None: every unit) and skips accepted cases."""
    with sqlite_database.transaction() as session:
        help_request(session, place="朝阳区/双井街道", crisis=True, now=NOW)
        taken = help_request(session, place="朝阳区/双井街道", crisis=True, now=NOW)
        taken.status = "assigned"
        help_request(session, place="朝阳区", now=NOW)
        help_request(session, place="海淀区", crisis=True, now=NOW)
        session.flush()
        chaoyang = repo.unit_by_path(session, path="朝阳区")
        shunyi = repo.unit_by_path(session, path="顺义区")
        assert chaoyang is not None and shunyi is not None
        below = sorted(repo.units_below(session, unit=chaoyang))
        assert urgency.count_waiting(session, unit_ids=below) == 1
        assert urgency.count_waiting(session, unit_ids=None) == 2
        assert urgency.count_waiting(session, unit_ids=[shunyi.id or 0]) == 0
        assert urgency.count_waiting(session, unit_ids=[]) == 0
