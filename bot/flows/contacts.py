"""联系点 and 结对: a cadre's contact points and paired households (联系基层工作制度).

Like 查询进度 this is a set of one-message commands with no dialogue state, so it has no machine
and no diagram. `联系点 <地点>` registers a district, a 街道/乡镇 or a 社区/村 (places by the NLP
gazetteer; a community named alone lies in the cadre's own district/street); `结对 <化名> <社区>`
registers a paired household; `我的联系点` lists them with the quota of each kind and the date of
the last visit to each. Each holder keeps at most `repo.QUOTA` of each kind (1 district,
2 streets, 4 communities, 6 households); the points must lie in her jurisdiction, where her
visits are filed. Only cadres have contact points. `register` is the same registration with
explicit arguments, raising `Refused`: the staff API's `POST /api/v1/contact-points` calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot import texts
from bot.actions import Effects
from bot.messages import Outgoing
from bot.nlp import NLP, mask_pii
from storage import repo
from storage.models import ContactPoint, User
from storage.orgtree import UnitPath

KINDS = ("district", "street", "community", "household")
MAX_PSEUDONYM_CHARS = 8
_PAIR_SPLIT = re.compile(r"[\s,，]+")


@dataclass(frozen=True)
class _Area:
    """Where the cadre works: her district and street (None above those levels)."""

    district: str | None
    street: str | None

    @property
    def words(self) -> str:
        return "".join(p for p in (self.district, self.street) if p) or texts.t("area.city")


class Refused(Exception):
    """A point that cannot be registered. `reason` names why (`over_quota`, `place_outside`, …);
    the chat says it with the text `contacts.<reason>` of bot.texts, formatted with `fmt`.
    `wrong_kind` (the place is not of the kind asked for) only arises through `register`."""

    def __init__(self, reason: str, **fmt: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fmt = fmt

    def text(self) -> str:
        """The chat's answer."""
        return texts.t(f"contacts.{self.reason}", **self.fmt)


@dataclass(frozen=True)
class Registration:
    """A registered point: `added` is False when she already held it; `count` is how many of
    its kind she holds now, of `quota`."""

    point: ContactPoint
    added: bool
    count: int
    quota: int


def _cadre_area(session: Session, user: User) -> _Area | None:
    if user.role != "cadre" or not user.unit_id:
        return None
    unit = repo.get_unit(session, unit_id=user.unit_id)
    if unit is None:
        return None
    path = UnitPath.parse(unit.path)
    return _Area(district=path.district, street=path.street)


def _kind_label(kind: str) -> str:
    return texts.t(f"contacts.kind.{kind}")


def _noun(kind: str) -> str:
    return texts.t(f"contacts.noun.{kind}")


def _display(point: ContactPoint) -> str:
    return f"{point.name}（{point.community}）" if point.community else point.name


def _place(nlp: NLP, area: _Area, text: str) -> tuple[str, str | None, str | None, str | None]:
    """(kind, district, street, community) of the place named in `text`, inside her area."""
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
    return kind, district, street, community


def _check_pseudonym(name: str) -> None:
    """A household's pseudonym: short, no digits, nothing the PII mask would hide, one word."""
    if (
        not name
        or len(name) > MAX_PSEUDONYM_CHARS
        or mask_pii(name) != name
        or any(c.isdigit() for c in name)
        or _PAIR_SPLIT.search(name) is not None
    ):
        raise Refused("pair_name")


def _register(
    session: Session,
    *,
    holder: int,
    now: datetime,
    kind: str,
    name: str,
    district: str,
    street: str | None,
    community: str | None,
) -> Registration:
    points = repo.contact_points(session, holder_id=holder)
    same = [p for p in points if p.kind == kind]
    quota = repo.QUOTA[kind]
    for point in same:
        if point.name == name:
            if kind == "household" and point.community != community:
                raise Refused("pair_taken", name=name, community=point.community or "")
            return Registration(point=point, added=False, count=len(same), quota=quota)
    if len(same) >= quota:
        names = "、".join(_display(p) for p in same)
        raise Refused("over_quota", quota=quota, kind=_noun(kind), count=len(same), names=names)
    unit = repo.unit_for_place(
        session,
        district=district,
        street=street if kind != "district" else None,
        community=community if kind in ("community", "household") else None,
        create_community=True,
    )
    point = repo.add_contact_point(
        session,
        holder_id=holder,
        kind=kind,
        name=name,
        unit_id=unit.id,
        community=community if kind == "household" else None,
        now=now,
    )
    return Registration(point=point, added=True, count=len(same) + 1, quota=quota)


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
    """Register a point for the cadre `user` with the chat's checks (the staff API's way in).

    `name` is the place (resolved by the gazetteer as `联系点 <name>` is, and it must be of
    `kind`), or for a household her pseudonym, with `community` where she lives (as
    `结对 <name> <community>`). Raises `Refused`: `cadre_only`, `place_unknown`,
    `place_outside`, `need_street`, `wrong_kind`, `pair_usage`, `pair_name`, `pair_community`,
    `pair_taken` or `over_quota`.
    """
    if kind not in KINDS:
        raise ValueError(f"not a contact-point kind: {kind!r}")
    area = _cadre_area(session, user)
    if area is None:
        raise Refused("cadre_only")
    holder = user.id or 0
    if kind == "household":
        if not community:
            raise Refused("pair_usage")
        _check_pseudonym(name)
        found, district, street, where = _place(nlp, area, community)
        if found != "community":
            raise Refused("pair_community")
        label: str | None = name  # the pseudonym; the place is her community
    else:
        found, district, street, where = _place(nlp, area, name)
        if found != kind:
            raise Refused("wrong_kind", place=name, kind=found)
        label = {"district": district, "street": street, "community": where}[kind]
    assert label is not None
    return _register(
        session,
        holder=holder,
        now=now,
        kind=kind,
        name=label,
        district=district or "",
        street=street,
        community=where,
    )


def _answer(done: Registration) -> list[Outgoing]:
    kind = done.point.kind
    if not done.added:
        return [
            Outgoing(texts.t("contacts.already", name=_display(done.point), kind=_kind_label(kind)))
        ]
    return [
        Outgoing(
            texts.t(
                "contacts.added",
                kind=_kind_label(kind),
                name=_display(done.point),
                count=done.count,
                quota=done.quota,
            )
        )
    ]


def add_point(fx: Effects, text: str | None) -> list[Outgoing]:
    """`联系点 <地点>`: register a district, street/town or community as her contact point."""
    area = _cadre_area(fx.session, fx.user)
    if area is None:
        return [Outgoing(texts.t("contacts.cadre_only"))]
    if not text:
        return [Outgoing(texts.t("contacts.usage"))]
    try:
        kind, district, street, community = _place(fx.nlp, area, text)
        name = {"district": district, "street": street, "community": community}[kind]
        assert name is not None
        done = _register(
            fx.session,
            holder=fx.user.id or 0,
            now=fx.now,
            kind=kind,
            name=name,
            district=district or "",
            street=street,
            community=community,
        )
    except Refused as refused:
        return [Outgoing(refused.text())]
    return _answer(done)


def add_pair(fx: Effects, text: str | None) -> list[Outgoing]:
    """`结对 <化名> <社区>`: register a paired household (a pseudonym and her community)."""
    area = _cadre_area(fx.session, fx.user)
    if area is None:
        return [Outgoing(texts.t("contacts.cadre_only"))]
    parts = _PAIR_SPLIT.split((text or "").strip(), maxsplit=1)
    if len(parts) != 2:
        return [Outgoing(texts.t("contacts.pair_usage"))]
    name, where = parts
    try:
        _check_pseudonym(name)
        kind, district, street, community = _place(fx.nlp, area, where)
        if kind != "community":
            raise Refused("pair_community")
        done = _register(
            fx.session,
            holder=fx.user.id or 0,
            now=fx.now,
            kind="household",
            name=name,
            district=district or "",
            street=street,
            community=community,
        )
    except Refused as refused:
        return [Outgoing(refused.text())]
    return _answer(done)


def list_points(fx: Effects) -> list[Outgoing]:
    """`我的联系点`: her points by kind, how many of the quota each, and the last visit."""
    if _cadre_area(fx.session, fx.user) is None:
        return [Outgoing(texts.t("contacts.cadre_only"))]
    points = repo.contact_points(fx.session, holder_id=fx.user.id or 0)
    if not points:
        return [Outgoing(texts.t("contacts.none") + "\n" + texts.t("contacts.usage"))]
    counts = repo.count_by_kind(fx.session, holder_id=fx.user.id or 0)
    quotas = {kind: f"{counts.get(kind, 0)}/{repo.QUOTA[kind]}" for kind in KINDS}
    lines = [texts.t("contacts.list", **quotas)]
    for kind in KINDS:
        for point in (p for p in points if p.kind == kind):
            last = repo.last_visit_on(fx.session, point=point)
            lines.append(
                texts.t(
                    "contacts.line",
                    name=_display(point),
                    kind=_noun(kind),
                    last=last.isoformat() if last else texts.t("contacts.never"),
                )
            )
    return [Outgoing("\n".join(lines))]
