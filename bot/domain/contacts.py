"""Contact points (联系点) and paired households (结对户): who holds them, where, how many.

The rules the chat (`联系点`, `结对`: `bot.flows.contacts`) and the staff API
(`POST /api/v1/contact-points`: `bot.console.contacts_api`) share. Only a bound cadre holds
points; a place (by the NLP gazetteer; a community named alone lies in her own district/street)
must lie in her jurisdiction, where her visits are filed; a household is a pseudonym with the
community where she lives; each holder keeps at most `repo.QUOTA` of each kind (1 district,
2 streets, 4 communities, 6 households). A refusal is a `Refused` whose key is the chat's text
`contacts.<reason>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot import texts
from bot.domain.errors import Conflict, DomainError, Invalid
from bot.nlp import NLP, mask_pii
from storage import repo
from storage.models import ContactPoint, OrgUnit, User, Visit
from storage.orgtree import UnitPath

KINDS = ("district", "street", "community", "household")
MAX_PSEUDONYM_CHARS = 8
PAIR_SPLIT = re.compile(r"[\s,，]+")
# Refusals that conflict with what she already holds (the rest are unacceptable arguments).
_CONFLICTS = frozenset({"pair_taken", "over_quota"})


class Refused(DomainError):
    """A point that cannot be registered. `reason` names why (`over_quota`, `place_outside`, …);
    the key is the text `contacts.<reason>` of bot.texts, formatted with `fields`. `wrong_kind`
    (the place is not of the kind asked for) only arises when a kind is asked for."""

    def __init__(self, reason: str, **fields: object) -> None:
        super().__init__(f"contacts.{reason}", **fields)
        self.reason = reason
        self.code = reason
        self.status = Conflict.status if reason in _CONFLICTS else Invalid.status


@dataclass(frozen=True)
class Area:
    """Where the cadre works: her district and street (None above those levels)."""

    district: str | None
    street: str | None

    @property
    def words(self) -> str:
        """Her jurisdiction in words ('朝阳区双井街道', or the city's)."""
        return "".join(p for p in (self.district, self.street) if p) or texts.t("area.city")


@dataclass(frozen=True)
class Place:
    """A place resolved inside her area: its kind and the district, street and community."""

    kind: str
    district: str | None
    street: str | None
    community: str | None

    @property
    def name(self) -> str:
        """The name of the place itself (the community, street or district)."""
        named = {"district": self.district, "street": self.street, "community": self.community}
        found = named[self.kind]
        assert found is not None
        return found


@dataclass(frozen=True)
class Registration:
    """A registered point: `added` is False when she already held it; `count` is how many of
    its kind she holds now, of `quota`."""

    point: ContactPoint
    added: bool
    count: int
    quota: int


def cadre_area(session: Session, user: User) -> Area | None:
    """The cadre's area; None for anyone who holds no points (not a bound cadre)."""
    if user.role != "cadre" or not user.unit_id:
        return None
    unit = repo.get_unit(session, unit_id=user.unit_id)
    if unit is None:
        return None
    path = UnitPath.parse(unit.path)
    return Area(district=path.district, street=path.street)


def display(point: ContactPoint) -> str:
    """'九龙社区', or a household as '王某（九龙社区）'."""
    if point.community:
        return texts.t("contacts.household", name=point.name, community=point.community)
    return point.name


def place_in(nlp: NLP, area: Area, text: str) -> Place:
    """The place named in `text`, inside her area; Refused `place_unknown`, `place_outside`
    or `need_street`."""
    district, street, community = nlp.match_places(text)
    if community is not None:
        kind = "community"
    elif street is not None:
        kind = "street"
    elif district is not None:
        kind = "district"
    else:
        raise Refused("place_unknown", place=text)
    named = community or street or district
    outside = (
        (area.district is not None and district not in (None, area.district))
        or (area.street is not None and street not in (None, area.street))
        or (area.street is not None and kind == "district")
    )
    if outside:
        raise Refused("place_outside", place=named, jurisdiction=area.words)
    district = district or area.district
    if kind == "community":
        street = street or area.street
    if district is None:
        raise Refused("need_street")
    return Place(kind=kind, district=district, street=street, community=community)


def check_pseudonym(name: str) -> None:
    """A household's pseudonym: short, no digits, nothing the PII mask would hide, one word;
    Refused `pair_name` otherwise."""
    if (
        not name
        or len(name) > MAX_PSEUDONYM_CHARS
        or mask_pii(name) != name
        or any(c.isdigit() for c in name)
        or PAIR_SPLIT.search(name) is not None
    ):
        raise Refused("pair_name")


def _area(session: Session, user: User) -> Area:
    area = cadre_area(session, user)
    if area is None:
        raise Refused("cadre_only")
    return area


def _hold(
    session: Session, *, holder: int, now: datetime, kind: str, name: str, place: Place
) -> Registration:
    """Add the point within her quota (the same point again is returned as it is)."""
    points = repo.contact_points(session, holder_id=holder)
    same = [p for p in points if p.kind == kind]
    quota = repo.QUOTA[kind]
    for point in same:
        if point.name == name:
            if kind == "household" and point.community != place.community:
                raise Refused("pair_taken", name=name, community=point.community or "")
            return Registration(point=point, added=False, count=len(same), quota=quota)
    if len(same) >= quota:
        names = texts.t("list.sep").join(display(p) for p in same)
        noun = texts.t(f"contacts.noun.{kind}")
        raise Refused("over_quota", quota=quota, kind=noun, count=len(same), names=names)
    unit = repo.unit_for_place(
        session,
        district=place.district or "",
        street=place.street if kind != "district" else None,
        community=place.community if kind in ("community", "household") else None,
        create_community=True,
    )
    point = repo.add_contact_point(
        session,
        holder_id=holder,
        kind=kind,
        name=name,
        unit_id=unit.id,
        community=place.community if kind == "household" else None,
        now=now,
    )
    return Registration(point=point, added=True, count=len(same) + 1, quota=quota)


def register_place(
    session: Session, *, user: User, nlp: NLP, now: datetime, text: str, kind: str | None = None
) -> Registration:
    """`联系点 <text>`: the district, street/town or community named in `text` as her point
    (of `kind` when given, else of whatever kind it is)."""
    area = _area(session, user)
    place = place_in(nlp, area, text)
    if kind is not None and place.kind != kind:
        raise Refused("wrong_kind", place=text, kind=place.kind)
    return _hold(
        session, holder=user.id or 0, now=now, kind=place.kind, name=place.name, place=place
    )


def register_household(
    session: Session, *, user: User, nlp: NLP, now: datetime, name: str, community: str | None
) -> Registration:
    """`结对 <name> <community>`: a paired household, by pseudonym and the community where she
    lives."""
    area = _area(session, user)
    if not community:
        raise Refused("pair_usage")
    check_pseudonym(name)
    place = place_in(nlp, area, community)
    if place.kind != "community":
        raise Refused("pair_community")
    return _hold(session, holder=user.id or 0, now=now, kind="household", name=name, place=place)


def register(
    session: Session,
    *,
    user: User,
    nlp: NLP,
    now: datetime,
    kind: str,
    name: str,
    community: str | None = None,
) -> Registration:
    """Register a point of `kind` for the cadre `user`: a place `name` that must be of `kind`,
    or a household's pseudonym `name` with its `community`. Raises Refused: `cadre_only`,
    `place_unknown`, `place_outside`, `need_street`, `wrong_kind`, `pair_usage`, `pair_name`,
    `pair_community`, `pair_taken` or `over_quota`; ValueError for an unknown kind."""
    if kind not in KINDS:
        raise ValueError(f"not a contact-point kind: {kind!r}")
    if kind == "household":
        return register_household(
            session, user=user, nlp=nlp, now=now, name=name, community=community
        )
    return register_place(session, user=user, nlp=nlp, now=now, text=name, kind=kind)


# ----------------------------------------------------------------------------- coverage


def visited_by(point: ContactPoint, visit: Visit) -> bool:
    """True when `visit` (by the point's holder) was to the point: in its district, street or
    community, or with the household (its pseudonym in whom, in its community). The one rule
    behind coverage in the quarterly summary and the console's contact-point page."""
    if point.kind == "household":
        return point.name in visit.whom and (
            not point.community or visit.community == point.community
        )
    place = {"district": visit.district, "street": visit.street}.get(point.kind, visit.community)
    return place == point.name


@dataclass(frozen=True)
class PointCoverage:
    """A contact point in a period: its holder and her unit, whether she visited it then, and
    her latest visit to it in the period (None: not visited)."""

    point: ContactPoint
    holder: User
    unit: OrgUnit
    last: date | None

    @property
    def visited(self) -> bool:
        """Visited in the period."""
        return self.last is not None


def coverage(
    session: Session, *, unit_ids: Sequence[int], start: date, end: date
) -> list[PointCoverage]:
    """The contact points held by the cadres of `unit_ids`, each with its latest visit dated
    `start`..`end`; by the holder's unit path, holder, kind and name."""
    points = repo.contact_points_of_cadres(session, unit_ids=unit_ids)
    holders = sorted({p.holder_id for p in points})
    visits: dict[int, list[Visit]] = {}
    for visit in repo.visits_by_cadres(session, cadre_ids=holders, start=start, end=end):
        visits.setdefault(visit.cadre_id, []).append(visit)
    users = {  # one query for every holder (they are the cadres of these units)
        u.id: u
        for cadres in repo.cadres_by_unit(session, unit_ids=unit_ids).values()
        for u in cadres
    }
    units: dict[int, OrgUnit | None] = {}
    found = []
    for point in points:
        holder = users.get(point.holder_id)
        if holder is None:
            continue
        unit_id = holder.unit_id or 0
        if unit_id not in units:
            units[unit_id] = repo.get_unit(session, unit_id=unit_id)
        unit = units[unit_id]
        if unit is None:
            continue
        days = [v.date for v in visits.get(point.holder_id, []) if visited_by(point, v)]
        found.append(PointCoverage(point, holder, unit, max(days) if days else None))
    order = {kind: n for n, kind in enumerate(KINDS)}
    found.sort(
        key=lambda c: (c.unit.path, c.holder.name or "", order.get(c.point.kind, 9), c.point.name)
    )
    return found
