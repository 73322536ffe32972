"""统一考核: how fast and how well each unit handles requests and hand-offs in a quarter.

Per unit — the unit answering the request: its assigned cadre's unit, else the unit answering
for her place now (it or the nearest unit above with a cadre bound, `bot.domain.routing`; the
city when nobody is bound) — over the requests filed in the quarter and the hand-offs opened in
it (a hand-off already belongs to the unit answering it):

- accepted on time: of the requests whose accept deadline has passed or which were accepted,
  the share accepted by the deadline;
- resolved on time: of the requests whose resolve deadline has passed or which were resolved,
  the share resolved by the deadline (a reopened request is judged by its latest deadline);
- median hours to accept, median days to resolve;
- satisfaction: of the rated requests, the share rated 满意 or 基本满意;
- reopened: how many were reopened (her 不满意 or staff);
- hand-offs answered within 10 minutes: of the hand-offs opened, the share a person answered
  within `answer_within`.

A share is None when there is nothing to judge yet. The city sees every unit, ranked by
resolved-on-time, then accepted-on-time; a district its own units. The rows are computed from
plain data (`RequestFacts`, `HandoffFacts`), so the rule is tested without a database;
`gather` reads those facts from storage for the console's page and the quarterly summary's row
(`row_of`: one row for a district and everything below it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlmodel import Session

from bot.domain import routing
from bot.domain.figures import AssessmentFigures
from storage import repo
from storage.models import HelpRequest

GOOD_RATINGS = ("satisfied", "basic")


@dataclass(frozen=True)
class RequestFacts:
    """What the assessment reads of one request (aware UTC times)."""

    unit_id: int
    created_at: datetime
    accept_due: datetime | None
    accepted_at: datetime | None
    resolve_due: datetime | None
    resolved_at: datetime | None
    status: str
    rating: str | None
    reopened: int
    place_id: int = 0  # the unit it is filed with (her place), for parts of a summary


@dataclass(frozen=True)
class HandoffFacts:
    """What the assessment reads of one hand-off (aware UTC times)."""

    unit_id: int
    opened_at: datetime
    answered_at: datetime | None

    @property
    def place_id(self) -> int:
        """A hand-off's place is the unit it went to."""
        return self.unit_id


class UnitRow(AssessmentFigures):
    """One unit's row of the assessment: the figures of `AssessmentFigures`, and whose."""

    unit_id: int


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def _on_time(done: datetime | None, due: datetime | None, now: datetime) -> bool | None:
    """True/False once it can be judged (done, or the deadline passed), else None."""
    if due is None:
        return None
    if done is not None:
        return done <= due
    return False if now > due else None


def row_of(
    unit_id: int,
    requests: Sequence[RequestFacts],
    handoffs: Sequence[HandoffFacts],
    *,
    now: datetime,
    answer_within: timedelta,
) -> UnitRow:
    """One row for `unit_id` over all these requests and hand-offs (whatever their units)."""
    accepted = [_on_time(r.accepted_at, r.accept_due, now) for r in requests]
    resolved = [
        _on_time(r.resolved_at if r.status == "resolved" else None, r.resolve_due, now)
        for r in requests
        if r.status != "cancelled"
    ]
    judged_a = [a for a in accepted if a is not None]
    judged_r = [r for r in resolved if r is not None]
    to_accept = [
        (r.accepted_at - r.created_at).total_seconds() / 3600
        for r in requests
        if r.accepted_at is not None
    ]
    to_resolve = [
        (r.resolved_at - r.created_at).total_seconds() / 86400
        for r in requests
        if r.resolved_at is not None and r.status == "resolved"
    ]
    rated = [r.rating for r in requests if r.rating]
    in_time = [
        h.answered_at is not None and h.answered_at - h.opened_at <= answer_within for h in handoffs
    ]
    return UnitRow(
        unit_id=unit_id,
        requests=len(requests),
        accepted_on_time=_share(sum(judged_a), len(judged_a)),
        resolved_on_time=_share(sum(judged_r), len(judged_r)),
        median_accept_hours=round(median(to_accept), 1) if to_accept else None,
        median_resolve_days=round(median(to_resolve), 1) if to_resolve else None,
        satisfaction=_share(sum(r in GOOD_RATINGS for r in rated), len(rated)),
        reopened=sum(r.reopened > 0 for r in requests),
        handoffs=len(handoffs),
        handoffs_in_time=_share(sum(in_time), len(in_time)),
    )


def _rank(row: UnitRow) -> tuple[float, float, int]:
    """Best first: resolved on time, then accepted on time (nothing judged counts last)."""
    return (
        -(row.resolved_on_time if row.resolved_on_time is not None else -1.0),
        -(row.accepted_on_time if row.accepted_on_time is not None else -1.0),
        row.unit_id,
    )


def assess(
    requests: Iterable[RequestFacts],
    handoffs: Iterable[HandoffFacts],
    *,
    now: datetime,
    answer_within: timedelta = timedelta(minutes=10),
) -> list[UnitRow]:
    """Each unit's row (every unit with a request or a hand-off), ranked best first."""
    by_unit: dict[int, list[RequestFacts]] = defaultdict(list)
    threads: dict[int, list[HandoffFacts]] = defaultdict(list)
    for request in requests:
        by_unit[request.unit_id].append(request)
    for thread in handoffs:
        threads[thread.unit_id].append(thread)
    rows = [
        row_of(
            unit,
            by_unit.get(unit, []),
            threads.get(unit, []),
            now=now,
            answer_within=answer_within,
        )
        for unit in set(by_unit) | set(threads)
    ]
    return sorted(rows, key=_rank)


# ----------------------------------------------------------------------------- from storage


def _aware(at: datetime | None) -> datetime | None:
    return repo.as_utc(at) if at is not None else None


def answering_units(session: Session, *, requests: Sequence[HelpRequest]) -> dict[int, int]:
    """Request id → the unit answering it: its assigned cadre's unit, else the unit answering
    for its place (the nearest unit up the tree with a cadre; the city when none)."""
    by_place: dict[int, int] = {}
    by_cadre: dict[int, int | None] = {}
    found: dict[int, int] = {}
    for request in requests:
        cadre = request.assigned_to
        if cadre is not None and cadre not in by_cadre:
            user = repo.get_user(session, user_id=cadre)
            by_cadre[cadre] = user.unit_id if user is not None else None
        unit_id = by_cadre.get(cadre) if cadre is not None else None
        if unit_id is None:
            if request.unit_id not in by_place:
                place = repo.get_unit(session, unit_id=request.unit_id)
                unit = routing.responsible_unit(session, unit=place)[0] if place else None
                by_place[request.unit_id] = (unit.id or 0) if unit else request.unit_id
            unit_id = by_place[request.unit_id]
        found[request.id or 0] = unit_id
    return found


def gather(
    session: Session, *, since: datetime, until: datetime, unit_ids: Sequence[int] | None
) -> tuple[list[RequestFacts], list[HandoffFacts]]:
    """The facts of the requests filed and the hand-offs opened in [since, until) at places
    (threads: with units) among `unit_ids` (None: the whole city), each with its answering
    unit."""
    rows = repo.assessment_facts(session, since=since, until=until, unit_ids=unit_ids)
    owners = answering_units(session, requests=rows)
    requests = [
        RequestFacts(
            unit_id=owners[r.id or 0],
            created_at=repo.as_utc(r.created_at),
            accept_due=_aware(r.accept_due),
            accepted_at=_aware(r.accepted_at),
            resolve_due=_aware(r.resolve_due),
            resolved_at=_aware(r.resolved_at),
            status=r.status,
            rating=r.rating,
            reopened=r.reopened,
            place_id=r.unit_id,
        )
        for r in rows
    ]
    handoffs = [
        HandoffFacts(
            unit_id=h.unit_id,
            opened_at=repo.as_utc(h.opened_at),
            answered_at=_aware(h.answered_at),
        )
        for h in repo.threads_opened(session, since=since, until=until, unit_ids=unit_ids)
    ]
    return requests, handoffs
