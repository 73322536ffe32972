"""Help requests and their event history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, String, and_, cast, or_
from sqlmodel import Session, col, select

from storage.models import OPEN_STATUSES, HelpRequest, HelpRequestEvent, User
from storage.repo._common import REQUEST_CODE_LENGTH, stored, unused_code


def create_help_request(
    session: Session,
    *,
    unit_id: int,
    need: str,
    primary: str,
    categories: Sequence[str],
    crisis: bool,
    district: str | None,
    street: str | None,
    community: str | None,
    contact: str,
    phone: str | None,
    requester_id: int | None,
    created_by: int | None,
    source: str,
    now: datetime,
    danger_kind: str | None = None,
    channel: str | None = None,
    address: str | None = None,
    attention: bool = False,
    accept_due: datetime | None = None,
    resolve_due: datetime | None = None,
) -> HelpRequest:
    """File a help request under a fresh short code, with its 'created' event (an urgent case:
    with the kind of danger and the channel and address she wrote from; `attention`: 需关注,
    filed after she answered 安全 to a safety check; the deadlines: `bot.domain.deadlines`)."""
    code = unused_code(session, HelpRequest.code, REQUEST_CODE_LENGTH)
    request = HelpRequest(
        code=code,
        requester_id=requester_id,
        created_by=created_by,
        source=source,
        unit_id=unit_id,
        status="new",
        need=need,
        primary=primary,
        categories=list(categories),
        crisis=crisis,
        attention=attention,
        danger_kind=danger_kind,
        channel=channel,
        address=address,
        district=district,
        street=street,
        community=community,
        contact=contact,
        phone=phone,
        created_at=stored(now),
        updated_at=stored(now),
        accept_due=stored(accept_due) if accept_due else None,
        resolve_due=stored(resolve_due) if resolve_due else None,
    )
    session.add(request)
    session.flush()
    add_event(session, request=request, kind="created", actor_id=created_by, note=None, now=now)
    return request


def add_event(
    session: Session,
    *,
    request: HelpRequest,
    kind: str,
    actor_id: int | None,
    note: str | None,
    now: datetime,
) -> HelpRequestEvent:
    """Append one step to a request's history."""
    event = HelpRequestEvent(
        request_id=request.id or 0, actor_id=actor_id, kind=kind, note=note, at=stored(now)
    )
    session.add(event)
    return event


def request_by_code(session: Session, *, code: str) -> HelpRequest | None:
    """Return the request with this code (case-insensitive)."""
    return session.exec(select(HelpRequest).where(HelpRequest.code == code.strip().upper())).first()


def requests_of(session: Session, *, requester_id: int, limit: int = 10) -> list[HelpRequest]:
    """Return a resident's requests, newest first."""
    return list(
        session.exec(
            select(HelpRequest)
            .where(HelpRequest.requester_id == requester_id)
            .order_by(col(HelpRequest.id).desc())
            .limit(limit)
        ).all()
    )


def open_requests_in(
    session: Session, *, unit_ids: Sequence[int], limit: int = 20
) -> list[HelpRequest]:
    """Return the open requests filed with any of these units, urgent and oldest first."""
    return list(
        session.exec(
            select(HelpRequest)
            .where(
                col(HelpRequest.unit_id).in_(list(unit_ids)),
                col(HelpRequest.status).in_(OPEN_STATUSES),
            )
            .order_by(col(HelpRequest.crisis).desc(), col(HelpRequest.id))
            .limit(limit)
        ).all()
    )


def update_request(
    session: Session,
    *,
    request: HelpRequest,
    kind: str,
    note: str | None,
    actor_id: int | None,
    now: datetime,
    need: str | None = None,
    phone: str | None = None,
) -> None:
    """Change an open request's words or phone (she added to it) with one event `kind`."""
    if need is not None:
        request.need = need
    if phone is not None:
        request.phone = phone
        request.contact = "phone"
    request.updated_at = stored(now)
    session.add(request)
    add_event(session, request=request, kind=kind, actor_id=actor_id, note=note, now=now)


def set_status(
    session: Session,
    *,
    request: HelpRequest,
    status: str,
    actor_id: int | None,
    note: str | None,
    now: datetime,
    kind: str | None = None,
    assigned_to: int | None = None,
    resolution: str | None = None,
) -> None:
    """Write a request's status (a resolved one with its resolution and time), its assignee when
    given, and one event (`kind`, default the status); the first move out of `new` dates its
    acceptance. Which moves are allowed, and by whom, is bot/domain/requests.py's rule; this
    only writes."""
    if request.status == "new" and status not in ("new", "cancelled") and not request.accepted_at:
        request.accepted_at = stored(now)
    request.status = status
    request.updated_at = stored(now)
    if assigned_to is not None:
        request.assigned_to = assigned_to
    if status == "resolved":
        request.resolved_at = stored(now)
        request.resolution = resolution
    session.add(request)
    add_event(session, request=request, kind=kind or status, actor_id=actor_id, note=note, now=now)


def set_rating(
    session: Session,
    *,
    request: HelpRequest,
    rating: str,
    note: str | None,
    actor_id: int | None,
    event_note: str,
    now: datetime,
) -> None:
    """Write the requester's rating of a request and its 'rated' event."""
    request.rating = rating
    request.rating_note = note
    request.rated_at = stored(now)
    session.add(request)
    add_event(session, request=request, kind="rated", actor_id=actor_id, note=event_note, now=now)


def set_labels(
    session: Session,
    *,
    request: HelpRequest,
    categories: Sequence[str],
    crisis: bool,
    note: str,
    now: datetime,
) -> None:
    """Write a request's categories (the primary first) and crisis flag with one 'relabelled'
    event. Who may, and what is kept as a labelled example, is bot/domain/labels.py's rule."""
    request.categories = list(categories)
    request.primary = categories[0]
    request.crisis = crisis
    request.updated_at = stored(now)
    session.add(request)
    add_event(session, request=request, kind="relabelled", actor_id=None, note=note, now=now)


def list_help_requests(
    session: Session,
    *,
    status: str | None = None,
    category: str | None = None,
    district: str | None = None,
    unit_ids: Sequence[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[HelpRequest, User | None]]:
    """Return requests matching the filters with their assignee, newest first."""
    query = select(HelpRequest, User).join(
        User, col(User.id) == col(HelpRequest.assigned_to), isouter=True
    )
    if status:
        query = query.where(HelpRequest.status == status)
    if district:
        query = query.where(HelpRequest.district == district)
    if category:
        # Categories are a JSON list; its text form contains the quoted code on both databases.
        query = query.where(cast(HelpRequest.categories, String).contains(f'"{category}"'))
    if unit_ids is not None:
        query = query.where(col(HelpRequest.unit_id).in_(list(unit_ids)))
    query = query.order_by(col(HelpRequest.id).desc()).offset(offset).limit(limit)
    return [(row[0], row[1]) for row in session.exec(query).all()]


def erase_requests_of(
    session: Session, *, requester_id: int, placeholder: str, note: str, now: datetime
) -> int:
    """Replace a resident's request texts by `placeholder` and drop her phone, the resolution and
    rating words (they may quote her) and her link, keeping the anonymous counts; open requests
    are cancelled with `note`."""
    rows = session.exec(select(HelpRequest).where(HelpRequest.requester_id == requester_id)).all()
    for request in rows:
        request.need = placeholder
        request.phone = None
        request.address = None
        request.resolution = None
        request.rating_note = None
        request.requester_id = None
        request.updated_at = stored(now)
        if request.status in OPEN_STATUSES:
            request.status = "cancelled"
            add_event(
                session,
                request=request,
                kind="cancelled",
                actor_id=None,
                note=note,
                now=now,
            )
        session.add(request)
    return len(rows)


def overdue_clause(at: datetime) -> ColumnElement[bool]:
    """SQL for "open and past a deadline at `at`" (`bot.domain.deadlines.missed` in SQL): not
    accepted by `accept_due` while new, or not resolved by `resolve_due`."""
    when = stored(at)
    return and_(
        col(HelpRequest.status).in_(OPEN_STATUSES),
        or_(
            and_(col(HelpRequest.status) == "new", col(HelpRequest.accept_due) < when),
            col(HelpRequest.resolve_due) < when,
        ),
    )


def overdue_requests(session: Session, *, now: datetime, limit: int = 500) -> list[HelpRequest]:
    """Open requests past a deadline now (the oldest resolve deadline first)."""
    query = (
        select(HelpRequest)
        .where(overdue_clause(now))
        .order_by(col(HelpRequest.resolve_due))
        .limit(limit)
    )
    return list(session.exec(query).all())


def assessment_facts(
    session: Session, *, since: datetime, until: datetime, unit_ids: Sequence[int] | None
) -> list[HelpRequest]:
    """The requests filed in [since, until) with one of `unit_ids` (None: every unit)."""
    query = select(HelpRequest).where(
        col(HelpRequest.created_at) >= stored(since), col(HelpRequest.created_at) < stored(until)
    )
    if unit_ids is not None:
        query = query.where(col(HelpRequest.unit_id).in_(list(unit_ids)))
    return list(session.exec(query).all())
