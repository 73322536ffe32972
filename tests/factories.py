"""Builders of rows the tests need, on an open session (one place for each shape)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from storage import repo
from storage.models import HelpRequest


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
