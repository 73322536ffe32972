"""统一考核 (bot/domain/assessment.py) on plain facts: shares judged only once they can be, the
latest deadline for a reopened request, medians, satisfaction, hand-offs in time, the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.assessment import HandoffFacts, RequestFacts, assess

T0 = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def request(
    unit: int,
    *,
    accepted: timedelta | None = None,
    resolved: timedelta | None = None,
    status: str = "in_progress",
    rating: str | None = None,
    reopened: int = 0,
) -> RequestFacts:
    """A request of `unit` filed at T0, due to be accepted in a day and resolved in 20 days."""
    return RequestFacts(
        unit_id=unit,
        created_at=T0,
        accept_due=T0 + DAY,
        accepted_at=T0 + accepted if accepted is not None else None,
        resolve_due=T0 + 20 * DAY,
        resolved_at=T0 + resolved if resolved is not None else None,
        status="resolved" if resolved is not None and status == "in_progress" else status,
        rating=rating,
        reopened=reopened,
    )


def test_one_units_row() -> None:
    """Accepted in 2 h and 30 h (1 of 2 on time), one resolved in 4 days, one still open and
    not yet due (not judged); rated 满意 and 不满意; one reopened; hand-offs answered in 5 and
    15 minutes and one never."""
    now = T0 + 10 * DAY
    [row] = assess(
        [
            request(1, accepted=2 * HOUR, resolved=4 * DAY, rating="satisfied"),
            request(1, accepted=30 * HOUR, rating="unsatisfied", reopened=1),
        ],
        [
            HandoffFacts(1, T0, T0 + timedelta(minutes=5)),
            HandoffFacts(1, T0, T0 + timedelta(minutes=15)),
            HandoffFacts(1, T0, None),
        ],
        now=now,
    )
    assert (row.requests, row.accepted_on_time, row.resolved_on_time) == (2, 0.5, 1.0)
    assert (row.median_accept_hours, row.median_resolve_days) == (16.0, 4.0)
    assert (row.satisfaction, row.reopened) == (0.5, 1)
    assert (row.handoffs, row.handoffs_in_time) == (3, 0.333)


def test_late_is_judged_when_the_deadline_passed_and_nothing_yet_is_none() -> None:
    """Not accepted and past the deadline counts as late; before it, nothing is judged; a
    cancelled request is not judged on resolving."""
    [fresh] = assess([request(1)], [], now=T0 + HOUR)
    assert (fresh.accepted_on_time, fresh.resolved_on_time, fresh.satisfaction) == (
        None,
        None,
        None,
    )
    [late] = assess([request(1), request(1, status="cancelled")], [], now=T0 + 21 * DAY)
    assert (late.accepted_on_time, late.resolved_on_time) == (0.0, 0.0)


def test_units_are_ranked_by_resolving_then_accepting_on_time() -> None:
    """The unit resolving on time comes first; one with nothing judged comes last."""
    now = T0 + 30 * DAY
    rows = assess(
        [
            request(1, accepted=2 * HOUR, resolved=25 * DAY),
            request(2, accepted=2 * HOUR, resolved=3 * DAY),
            request(3, accepted=30 * HOUR, resolved=3 * DAY),
        ],
        [HandoffFacts(4, T0, None)],
        now=now,
    )
    assert [r.unit_id for r in rows] == [2, 3, 1, 4]
