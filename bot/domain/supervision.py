"""督办: a request past its deadline is escalated up the tree, and every step is recorded.

- Not accepted by `accept_due`, or not resolved by `resolve_due`: the district's cadres are told
  and the request is marked supervised (`supervised` 1, an event "supervised" with the reason);
  district and city staff see it in the console's 超期督办 list.
- Still overdue one working day later: the city's duty staff are told (`supervised` 2).
- Urgent cases are chased by their own rules until someone accepts them (`bot.domain.urgent`);
  here only their resolution is supervised.

The scheduler runs `supervise` every tick; a step is taken once (the mark only rises). The step
itself is the request lifecycle's `supervise` move (`bot.domain.requests`, drawn in
requests.mmd): the mark, the event and the pushes.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import texts
from bot.domain import deadlines, requests, routing
from bot.domain.org import unit_label
from storage import repo
from storage.models import HelpRequest

DISTRICT, CITY = 1, 2


def _reason(request: HelpRequest, now: datetime) -> tuple[str, datetime] | None:
    """The deadline `request` missed (`deadlines.missed`), but an urgent case's acceptance:
    its own chases handle that."""
    found = deadlines.missed(request, now)
    if found is not None and found[0] == "accept" and request.crisis:
        return None
    return found


def supervise(session: Session, *, now: datetime, limits: deadlines.Limits) -> list[str]:
    """Escalate each open request past a deadline one step further when it is due; return
    "<code>:<level>" of each step taken."""
    taken = []
    for request in repo.overdue_requests(session, now=now):
        found = _reason(request, now)
        if found is None:
            continue
        why, missed = found
        level = DISTRICT
        if deadlines.overdue(limits.end_of_working_day(missed, 1), now):
            level = CITY
        if request.supervised >= level:
            continue
        unit = repo.get_unit(session, unit_id=request.unit_id)
        assert unit is not None
        district = repo.district_of(session, unit=unit)
        when = deadlines.day_label(missed, limits.tz)
        above = district if level == DISTRICT else repo.city_unit(session)
        note = texts.t(
            f"supervise.{why}", when=when, unit=unit_label(unit), above=unit_label(above)
        )
        ids = (
            routing.responders(session, unit=district)
            if level == DISTRICT
            else repo.duty_user_ids(session)
        )
        requests.supervise(session, request=request, level=level, note=note, notify=ids, now=now)
        taken.append(f"{request.code}:{level}")
    return taken
