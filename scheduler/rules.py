"""The reminder rules: what is due at a moment, as data (the tick enqueues it under its key).

Every reminder has a moment — a milestone at 09:00 Asia/Shanghai, or a request's age reaching a
stage — and fires from that moment for one day (`CATCH_UP`): a tick missed for a few hours
catches up, a scheduler that was down longer does not flood anyone. Within that day every tick
computes the same reminder under the same business key, so the outbox sends it once.

- Quarterly summaries of the district-level units: T−7, T−1 and T, then every 3 days while
  overdue, to the unit's own cadres; from T+7 every 3 days one list of the late units to the city
  staff. A submitted or accepted summary stops them; a returned one is open again. The city's
  own summary (due `CITY_AFTER_DAYS` after the districts') gets the same T−7 … overdue
  reminders, to the city's cadres, until city staff submit it in the console.
- Requests still open: new (unassigned) 24 h after filing → the responsible unit's cadres; 7 days
  → the assignee (or those cadres); 14 days → the cadres of the request's district. Reminders
  about crisis requests are urgent.
- Paired households not visited for 30 days (from the last visit, or from registration), every 30
  days; contact points not visited this quarter, at the quarter's middle day → their holder.
- Urgent (crisis) requests nobody accepted: after 10 minutes → the responsible unit's cadres;
  after 30 → also the cadres of its district and the chat users of the duty staff; then every 30
  minutes until someone accepts (FUQING_URGENT_*_MINUTES; `bot.domain.urgent.chase_stage`).
  Urgent, day or night.
- Quiet hours 21:00–08:00: everything but urgent reminders is held until 08:00.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.domain import urgency
from bot.domain.quarters import Quarter, due_date, summary_due
from bot.domain.quiet_hours import is_quiet, quiet_until
from bot.domain.reviews import SUBMITTED_STATUSES
from bot.domain.routing import nearest_with_cadres
from bot.domain.urgent import ChaseTimes, chase_stage, kind_label
from bot.texts import category_labels, t
from storage import repo

CATCH_UP = timedelta(days=1)  # how long after its moment a reminder still goes out
REMIND_AT = time(9, 0)  # the local time of day-granular reminders

REPORT_BEFORE = {-7: "soon", -1: "tomorrow", 0: "today"}  # days from the due date → text
OVERDUE_EVERY = 3  # days between overdue reminders
CITY_FROM = 7  # days overdue before the city staff are told
CITY_LIST_MAX = 20  # late units named in the city staff's message

# (stage name in the key, age of the open request)
REQUEST_STAGES = (
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("14d", timedelta(days=14)),
)
PAIR_GAP_DAYS = 30


@dataclass(frozen=True)
class Reminder:
    """One message due to one user, with its unique business key."""

    key: str  # e.g. "report:朝阳区:2026Q1:T-7:u12"
    user_id: int
    text: str
    urgent: bool = False
    due_at: datetime | None = None  # None: now; quiet hours hold non-urgent ones until 08:00


def reminders(
    session: Session,
    *,
    now: datetime,
    settings_due_days: int,
    tz: ZoneInfo,
    chases: ChaseTimes | None = None,
) -> list[Reminder]:
    """Every reminder due at `now` (aware): urgent chases, summaries, requests, then contact
    points and pairs."""
    now = now.astimezone(UTC)
    tree = _Tree(repo.unit_nodes(session), repo.cadre_ids_by_unit(session))
    found = [
        *_urgent_reminders(session, tree, now=now, times=chases or ChaseTimes()),
        *_report_reminders(session, tree, now=now, days=settings_due_days, tz=tz),
        *_request_reminders(session, tree, now=now),
        *_point_reminders(session, tree, now=now, tz=tz),
    ]
    if not is_quiet(now, tz):
        return found
    held = quiet_until(now, tz)
    return [r if r.urgent else replace(r, due_at=held) for r in found]


def milestone_day(now: datetime, *, tz: ZoneInfo) -> date:
    """The day whose 09:00 reminders are due at `now`: today from 09:00, else yesterday."""
    local = now.astimezone(tz)
    return local.date() if local.time() >= REMIND_AT else local.date() - timedelta(days=1)


# ----------------------------------------------------------------------------- the org tree


class _Tree:
    """The org tree and its cadres in memory: who is responsible for a unit, and its district."""

    def __init__(self, nodes: Mapping[int, repo.UnitNode], cadres: Mapping[int, list[int]]):
        self.nodes = nodes
        self.cadres = cadres
        roots = [n.id for n in nodes.values() if n.parent_id is None]
        self.root = roots[0] if roots else None
        self._responsible: dict[int, list[int]] = {}

    def districts(self) -> list[repo.UnitNode]:
        """The district-level units (children of the city), in id order."""
        return [n for n in self.nodes.values() if n.parent_id == self.root and n.id != self.root]

    def responsible(self, unit_id: int) -> list[int]:
        """The cadres of the unit, or of the nearest unit above it that has any (the routing
        rule, bot/domain/routing.py, applied to the tree in memory)."""
        if unit_id not in self._responsible:
            _unit, found = nearest_with_cadres(self.chain(unit_id), self.cadres)
            self._responsible[unit_id] = found
        return self._responsible[unit_id]

    def chain(self, unit_id: int) -> list[int]:
        """The unit and its parents up to the city, nearest first (a cycle ends the walk)."""
        chain: list[int] = []
        current: int | None = unit_id
        while current is not None and current not in chain:
            chain.append(current)
            node = self.nodes.get(current)
            current = node.parent_id if node else None
        return chain

    def district_of(self, unit_id: int) -> int:
        """The district-level unit at or above the unit (the city for the city itself)."""
        current = unit_id
        for _ in range(len(self.nodes)):
            node = self.nodes.get(current)
            if node is None or node.parent_id is None or node.parent_id == self.root:
                return current
            current = node.parent_id
        return current

    def name(self, unit_id: int | None) -> str:
        """A unit's name ('' if unknown)."""
        node = self.nodes.get(unit_id) if unit_id is not None else None
        return node.name if node else ""


# ----------------------------------------------------------------------------- urgent cases


def _urgent_reminders(
    session: Session, tree: _Tree, *, now: datetime, times: ChaseTimes
) -> Iterator[Reminder]:
    requests = repo.unaccepted_urgent(
        session, created_before=now - times.first, statuses=urgency.WAITING
    )
    duty = repo.duty_user_ids(session) if requests else []
    for request in requests:
        stage = chase_stage(now - request.created_at, times)
        if stage is None:
            continue
        minutes, escalated = stage
        fields = {
            "code": request.code,
            "kind": kind_label(request.danger_kind),
            "place": "".join(p for p in (request.district, request.street, request.community) if p)
            or t("place.unknown"),
            "minutes": minutes,
        }
        unit = tree.responsible(request.unit_id)
        texts_for = {uid: t("remind.urgent.unit", **fields) for uid in unit}
        if escalated:
            wider = t("remind.urgent.escalated", unit=tree.name(request.unit_id), **fields)
            for uid in [*tree.responsible(tree.district_of(request.unit_id)), *duty]:
                texts_for.setdefault(uid, wider)
        for user_id, text in texts_for.items():
            yield Reminder(
                key=f"urgent:{request.code}:{minutes}m:u{user_id}",
                user_id=user_id,
                text=text,
                urgent=True,
            )


# ----------------------------------------------------------------------------- summaries


def _report_reminders(
    session: Session, tree: _Tree, *, now: datetime, days: int, tz: ZoneInfo
) -> Iterator[Reminder]:
    day = milestone_day(now, tz=tz)
    current = Quarter.of(day)
    overrides = repo.due_date_overrides(session)
    dues = {q: due_date(q, days=days, overrides=overrides) for q in (current.previous(), current)}
    yield from _city_summary_reminders(session, tree, day=day, dues=dues)
    due_now = {
        q: due
        for q, due in dues.items()
        if _unit_stage((day - due).days) or _city_stage((day - due).days)
    }
    if not due_now:
        return
    units = tree.districts()
    reports = repo.reports_of_quarters(session, quarters=[str(q) for q in due_now])
    for quarter, due in sorted(due_now.items()):
        offset = (day - due).days
        late: list[repo.UnitNode] = []
        for unit in units:
            report = reports.get((unit.id, str(quarter)))
            if report is not None and report.status in SUBMITTED_STATUSES:
                continue
            late.append(unit)
            if not _unit_stage(offset):
                continue
            text = _report_text(unit=unit.name, quarter=quarter, due=due, offset=offset)
            for user_id in tree.cadres.get(unit.id, []):
                key = f"report:{unit.name}:{quarter}:{_label(offset)}:u{user_id}"
                yield Reminder(key=key, user_id=user_id, text=text)
        if _city_stage(offset) and late and tree.root is not None:
            names = "、".join(u.name for u in late[:CITY_LIST_MAX])
            if len(late) > CITY_LIST_MAX:
                names += t("remind.report.more")
            text = t(
                "remind.report.city",
                quarter=_quarter_label(quarter),
                due=_date_label(due),
                days=offset,
                count=len(late),
                units=names,
            )
            for user_id in tree.cadres.get(tree.root, []):
                key = f"report:city:{quarter}:{_label(offset)}:u{user_id}"
                yield Reminder(key=key, user_id=user_id, text=text)


def _city_summary_reminders(
    session: Session, tree: _Tree, *, day: date, dues: Mapping[Quarter, date]
) -> Iterator[Reminder]:
    """The city's own summary: T−7, T−1, T and every 3 days overdue, to the city's cadres."""
    if tree.root is None:
        return
    city = tree.nodes[tree.root]
    for quarter, districts_due in sorted(dues.items()):
        due = summary_due(districts_due, city=True)
        offset = (day - due).days
        if not _unit_stage(offset):
            continue
        report = repo.reports_of_quarters(session, quarters=[str(quarter)]).get(
            (tree.root, str(quarter))
        )
        if report is not None and report.status in SUBMITTED_STATUSES:
            continue
        fields = {"unit": city.name, "quarter": _quarter_label(quarter), "due": _date_label(due)}
        if offset in REPORT_BEFORE:
            text = t(f"remind.city_summary.{REPORT_BEFORE[offset]}", days=-offset, **fields)
        else:
            text = t("remind.city_summary.overdue", days=offset, **fields)
        for user_id in tree.cadres.get(tree.root, []):
            key = f"city-summary:{quarter}:{_label(offset)}:u{user_id}"
            yield Reminder(key=key, user_id=user_id, text=text)


def _unit_stage(offset: int) -> bool:
    """True when a unit's cadres are reminded `offset` days from the due date."""
    return offset in REPORT_BEFORE or (offset > 0 and offset % OVERDUE_EVERY == 0)


def _city_stage(offset: int) -> bool:
    """True when the city staff are told `offset` days after the due date."""
    return offset >= CITY_FROM and (offset - CITY_FROM) % OVERDUE_EVERY == 0


def _label(offset: int) -> str:
    """The milestone's name in keys: T-7, T-1, T, T+3, …"""
    return "T" if offset == 0 else f"T{offset:+d}"


def _report_text(*, unit: str, quarter: Quarter, due: date, offset: int) -> str:
    fields = {"unit": unit, "quarter": _quarter_label(quarter), "due": _date_label(due)}
    if offset in REPORT_BEFORE:
        return t(f"remind.report.{REPORT_BEFORE[offset]}", days=-offset, **fields)
    return t("remind.report.overdue", days=offset, **fields)


def _quarter_label(quarter: Quarter) -> str:
    return t("remind.quarter", year=quarter.year, q=quarter.q)


def _date_label(day: date) -> str:
    return t("remind.date", month=day.month, day=day.day)


# ----------------------------------------------------------------------------- requests


def _request_reminders(session: Session, tree: _Tree, *, now: datetime) -> Iterator[Reminder]:
    windows = [(now - age - CATCH_UP, now - age) for _stage, age in REQUEST_STAGES]
    for request in repo.open_requests_created_in(session, windows=windows):
        for stage, age in REQUEST_STAGES:
            if not now - age - CATCH_UP < request.created_at <= now - age:
                continue
            recipients, text = _request_stage(tree, request, stage=stage, days=age.days)
            for user_id in dict.fromkeys(recipients):
                yield Reminder(
                    key=f"request:{request.code}:{stage}:u{user_id}",
                    user_id=user_id,
                    text=text,
                    urgent=request.crisis,
                )


def _request_stage(
    tree: _Tree, request: repo.OpenRequest, *, stage: str, days: int
) -> tuple[Sequence[int], str]:
    fields = {
        "code": request.code,
        "categories": category_labels(request.categories) or t("value.none"),
        "place": "".join(p for p in (request.district, request.street, request.community) if p)
        or t("place.unknown"),
        "days": days,
    }
    mark = t("urgent.mark") if request.crisis else ""
    if stage == "24h":
        if request.status != "new":
            return [], ""
        return tree.responsible(request.unit_id), mark + t("remind.request.unassigned", **fields)
    if stage == "7d":
        recipients = (
            [request.assigned_to] if request.assigned_to else tree.responsible(request.unit_id)
        )
        return recipients, mark + t("remind.request.unresolved", **fields)
    district = tree.district_of(request.unit_id)
    text = t("remind.request.escalated", unit=tree.name(request.unit_id), **fields)
    return tree.responsible(district), mark + text


# ----------------------------------------------------------------------------- contact points


def _point_reminders(
    session: Session, tree: _Tree, *, now: datetime, tz: ZoneInfo
) -> Iterator[Reminder]:
    day = milestone_day(now, tz=tz)
    pairs = repo.held_points(session, kinds=["household"])
    if pairs:
        yield from _pair_reminders(session, tree, pairs, day=day, tz=tz)
    quarter = Quarter.of(day)
    if day != quarter.middle:
        return
    moment = datetime.combine(day, REMIND_AT, tzinfo=tz)
    label = _quarter_label(quarter)
    for point in repo.unvisited_points(session, since=quarter.start, registered_by=moment):
        yield Reminder(
            key=f"point:{point.id}:{quarter}:u{point.holder_id}",
            user_id=point.holder_id,
            text=t("remind.point", quarter=label, name=point.name),
        )


def _pair_reminders(
    session: Session, tree: _Tree, pairs: Sequence[repo.HeldPoint], *, day: date, tz: ZoneInfo
) -> Iterator[Reminder]:
    visits = repo.last_pair_visits(session)
    for pair in pairs:
        registered = _local_date(pair.created_at, tz)
        last = visits.get(pair.id)
        start = max(last, registered) if last is not None else registered
        gap = (day - start).days
        if gap < PAIR_GAP_DAYS or gap % PAIR_GAP_DAYS:
            continue
        began = day - timedelta(days=PAIR_GAP_DAYS)
        fields = {
            "name": pair.name,
            "place": pair.community or tree.name(pair.unit_id) or t("place.unknown"),
            "days": gap,
            "since": _date_label(start),
        }
        text = t("remind.pair" if start == last else "remind.pair_new", **fields)
        yield Reminder(
            key=f"pair:{pair.id}:{began.isoformat()}:u{pair.holder_id}",
            user_id=pair.holder_id,
            text=text,
        )


def _local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()
