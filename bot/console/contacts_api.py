"""Contact points in the staff API (`/api/v1/contact-points`, bearer `FUQING_ADMIN_TOKEN`).

- `GET /api/v1/contact-points[?cadre=张干部]`: every cadre's contact points and paired
  households, with the holder's unit and the date of her last visit to each;
- `POST /api/v1/contact-points`: register one for a bound cadre, through the same code and
  checks as `联系点` / `结对` in chat (`bot.domain.contacts.register`): 201 with the point (200
  when she already holds it); 409 over the quota or for a pseudonym she uses in another
  community; 422 for anyone but a bound cadre, a place unknown, outside her jurisdiction or not
  of the kind asked for, or an unfit pseudonym;
- `DELETE /api/v1/contact-points/{id}`: 204, or 404.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from bot.domain.contacts import Refused, register
from bot.errors import ApiError
from bot.http import bearer_guard, services
from storage import repo
from storage.models import ContactPoint, OrgUnit, User

router = APIRouter(
    prefix="/api/v1/contact-points",
    tags=["contact points"],
    dependencies=[Depends(bearer_guard("admin_token"))],
)
Kind = Literal["district", "street", "community", "household"]

# Each refusal of the shared registration: HTTP status, error code and message.
_REFUSALS: dict[str, tuple[int, str, str]] = {
    "cadre_only": (422, "not_a_cadre", "only a bound cadre holds contact points"),
    "place_unknown": (422, "unknown_place", "no such place: {place}"),
    "place_outside": (
        422,
        "outside_jurisdiction",
        "{place} is outside her jurisdiction ({jurisdiction})",
    ),
    "need_street": (422, "street_required", "name the community with its street: 双井街道九龙社区"),
    "wrong_kind": (422, "wrong_kind", "{place} is a {kind}, not a {asked}"),
    "pair_usage": (422, "community_required", "a paired household needs her community"),
    "pair_name": (
        422,
        "invalid_pseudonym",
        "a household's name is a pseudonym such as 王某: at most 8 characters, no digits, "
        "no full name or phone number",
    ),
    "pair_community": (422, "community_required", "{community} is not a community or village"),
    "pair_taken": (
        409,
        "pseudonym_taken",
        "she already has a household called {name} in {community}",
    ),
    "over_quota": (
        409,
        "over_quota",
        "the quota of {kind} contact points is {quota} and she holds {count}: {names}",
    ),
}


class ContactPointIn(BaseModel):
    """Register a point for cadre `cadre_id`: a place by name ("九龙社区", "双井街道"), or a
    household's pseudonym ("王某") with the `community` where she lives."""

    cadre_id: int
    kind: Kind
    name: str = Field(min_length=1, max_length=64)
    community: str | None = Field(default=None, min_length=1, max_length=64)


class ContactPointOut(BaseModel):
    """A contact point or paired household, its holder and her last visit to it."""

    id: int
    cadre_id: int
    cadre: str | None
    unit: str | None
    kind: str
    name: str
    community: str | None
    last_visit: str | None


def _item(session: Session, point: ContactPoint, holder: User | None) -> ContactPointOut:
    unit: OrgUnit | None = None
    if holder is not None and holder.unit_id is not None:
        unit = repo.get_unit(session, unit_id=holder.unit_id)
    last = repo.last_visit_on(session, point=point)
    return ContactPointOut(
        id=point.id or 0,
        cadre_id=point.holder_id,
        cadre=holder.name if holder else None,
        unit=unit.path if unit else None,
        kind=point.kind,
        name=point.name,
        community=point.community,
        last_visit=last.isoformat() if last else None,
    )


def _refusal(refused: Refused, body: ContactPointIn) -> ApiError:
    status, code, message = _REFUSALS[refused.reason]
    fields: dict[str, object] = {"community": body.community or "", **refused.fields}
    fields["asked"] = body.kind
    details: dict[str, object] | None = None
    if refused.reason == "over_quota":
        fields["kind"] = body.kind
        details = {
            "kind": body.kind,
            "quota": refused.fields["quota"],
            "count": refused.fields["count"],
        }
    return ApiError(status, code, message.format(**fields), details)


@router.get("", response_model=list[ContactPointOut])
async def list_contact_points(
    request: Request,
    cadre: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ContactPointOut]:
    """Contact points in the order registered, of every active holder or of the cadre(s)
    called `cadre`."""
    svc = services(request)

    def query() -> list[ContactPointOut]:
        with svc.db.read() as session:
            holders: dict[int, User | None] = {}
            chosen: list[tuple[ContactPoint, User | None]] = []
            for point in repo.contact_points(session):
                if point.holder_id not in holders:
                    holders[point.holder_id] = repo.get_user(session, user_id=point.holder_id)
                holder = holders[point.holder_id]
                if holder is None or holder.deleted_at is not None:
                    continue
                if cadre is not None and holder.name != cadre:
                    continue
                chosen.append((point, holder))
            return [_item(session, p, h) for p, h in chosen[offset : offset + limit]]

    return await asyncio.to_thread(query)


@router.post("", response_model=ContactPointOut, status_code=201)
async def create_contact_point(
    request: Request, body: ContactPointIn, response: Response
) -> ContactPointOut:
    """Register a point for a bound cadre with the chat's checks; 200 when she already holds
    it, 409 over the quota, 422 outside her jurisdiction or for an unknown place."""
    svc = services(request)
    now = svc.engine.clock()
    if body.kind != "household" and body.community is not None:
        raise ApiError(
            422, "community_not_allowed", "community is given for paired households only"
        )

    def create() -> tuple[ContactPointOut, bool]:
        with svc.db.transaction() as session:
            holder = repo.get_user(session, user_id=body.cadre_id)
            if holder is None or holder.deleted_at is not None:
                raise ApiError(422, "not_a_cadre", f"no user {body.cadre_id}")
            try:
                done = register(
                    session,
                    user=holder,
                    nlp=svc.nlp,
                    now=now,
                    kind=body.kind,
                    name=body.name.strip(),
                    community=body.community.strip() if body.community else None,
                )
            except Refused as refused:
                raise _refusal(refused, body) from None
            return _item(session, done.point, holder), done.added

    item, added = await asyncio.to_thread(create)
    if not added:
        response.status_code = 200
    return item


@router.delete("/{point_id}", status_code=204)
async def delete_contact_point(request: Request, point_id: int) -> Response:
    """Remove a contact point; 404 when there is none with this id."""
    svc = services(request)

    def remove() -> None:
        with svc.db.transaction() as session:
            point = repo.contact_point(session, point_id=point_id)
            if point is None:
                raise ApiError(404, "not_found", f"no contact point {point_id}")
            repo.remove_contact_point(session, point=point)

    await asyncio.to_thread(remove)
    return Response(status_code=204)
