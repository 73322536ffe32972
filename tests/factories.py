"""Builders of rows the tests need, on an open session (one place for each shape)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from storage import repo
from storage.models import HelpRequest, User


def help_request(
    session: Session,
    *,
    place: str = "朝阳区/双井街道",
    need: str = "想找工作",
    categories: Sequence[str] = ("jobs",),
    crisis: bool = False,
    phone: str | None = None,
    requester_id: int | None = None,
    source: str = "chat",
    now: datetime,
) -> HelpRequest:
    """File a request at the unit at `place` ("朝阳区" or "朝阳区/双井街道"): the district and
    street come from the path, the primary category is the first, the contact is her phone
    when she gave one; `requester_id` also files it."""
    unit = repo.unit_by_path(session, path=place)
    assert unit is not None, place
    district, _, street = place.partition("/")
    return repo.create_help_request(
        session,
        unit_id=unit.id or 0,
        need=need,
        primary=categories[0],
        categories=list(categories),
        crisis=crisis,
        district=district,
        street=street or None,
        community=None,
        contact="phone" if phone else "chat",
        phone=phone,
        requester_id=requester_id,
        created_by=requester_id,
        source=source,
        now=now,
    )


def bind_cadre(
    session: Session,
    *,
    place: str = "朝阳区/双井街道",
    name: str = "张干部",
    external_id: str | None = None,
    channel: str = "api",
    now: datetime,
) -> User:
    """A cadre bound to the unit at `place` through an invite, reachable on `channel` at
    `external_id` (default: her name)."""
    unit = repo.unit_by_path(session, path=place)
    assert unit is not None, place
    _identity, user, _new = repo.get_or_create_identity(
        session, channel=channel, external_id=external_id or name, now=now
    )
    invite = repo.create_invite(session, unit=unit, name=name, now=now)
    repo.redeem_invite(session, invite=invite, user=user, now=now)
    session.flush()
    return user


def add_community(session: Session, *, place: str = "朝阳区/双井街道/九龙社区") -> None:
    """Put a 社区/村 in the org tree (as a contact point or a confirmed visit there does)."""
    district, street, community = place.split("/")
    repo.unit_for_place(
        session, district=district, street=street, community=community, create_community=True
    )


def duty_user(session: Session, *, external_id: str = "duty", now: datetime) -> User:
    """A chat user (on the api channel at `external_id`) linked to a city staff account on duty:
    the city's duty staff, as urgent cases, hand-offs and 督办 reach them."""
    _identity, user, _new = repo.get_or_create_identity(
        session, channel="api", external_id=external_id, now=now
    )
    city = repo.city_unit(session)
    staff = repo.create_staff(session, username=external_id, password_hash="x", unit=city, now=now)
    repo.set_duty(session, staff=staff, on_duty=True, user_id=user.id)
    return user
