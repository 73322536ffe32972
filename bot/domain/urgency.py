"""What counts as an urgent case nobody has accepted yet: the one home of that rule.

An urgent case is a help request marked `crisis`; it is accepted once someone takes it or it is
assigned (the lifecycle's `assigned`, or any status after it: bot/domain/requests.py). Until
then it is *waiting*: the console pins it at the top of every list of requests, counts it in
the navigation of every page, and its browser tab flashes. The statuses come from the
lifecycle's own order, so a status added before `assigned` is waiting too.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from bot.domain.requests import STATES
from storage import repo
from storage.models import HelpRequest

ACCEPTED_FROM = "assigned"  # the first status in which someone has accepted the case
WAITING: tuple[str, ...] = STATES[: STATES.index(ACCEPTED_FROM)]  # ("new",)


def is_waiting(request: HelpRequest) -> bool:
    """True when `request` is an urgent case nobody has accepted yet."""
    return request.crisis and request.status in WAITING


def count_waiting(session: Session, *, unit_ids: Sequence[int] | None) -> int:
    """How many urgent cases filed with one of `unit_ids` (None: every unit) nobody has
    accepted yet."""
    return repo.count_urgent_requests(session, unit_ids=unit_ids, statuses=WAITING)
