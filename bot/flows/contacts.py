"""联系点 and 结对: a cadre's contact points and paired households (联系基层工作制度).

Like 查询进度 this is a set of one-message commands with no dialogue state, so it has no machine
and no diagram. `联系点 <地点>` registers a district, a 街道/乡镇 or a 社区/村 (places by the NLP
gazetteer; a community named alone lies in the cadre's own district/street); `结对 <化名> <社区>`
registers a paired household; `我的联系点` lists them with the quota of each kind and the date of
the last visit to each. Each holder keeps at most `repo.QUOTA` of each kind (1 district,
2 streets, 4 communities, 6 households); the points must lie in her jurisdiction, where her
visits are filed. Only cadres have contact points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import texts
from bot.actions import Effects
from bot.messages import Outgoing
from bot.nlp import mask_pii
from storage import repo
from storage.models import ContactPoint

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
        return "".join(p for p in (self.district, self.street) if p) or "全市"


class _Refused(Exception):
    """A point that cannot be registered; `key` names the reason in bot.texts."""

    def __init__(self, key: str, **fmt: object) -> None:
        super().__init__(key)
        self.key = key
        self.fmt = fmt


def _cadre_area(fx: Effects) -> _Area | None:
    if fx.user.role != "cadre" or not fx.user.unit_id:
        return None
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id)
    if unit is None:
        return None
    parts = unit.path.split("/")
    return _Area(
        district=parts[1] if len(parts) > 1 else None,
        street=parts[2] if len(parts) > 2 else None,
    )


def _kind_label(kind: str) -> str:
    return texts.t(f"contacts.kind.{kind}")


def _noun(kind: str) -> str:
    return texts.t(f"contacts.noun.{kind}")


def _display(point: ContactPoint) -> str:
    return f"{point.name}（{point.community}）" if point.community else point.name


def _place(fx: Effects, area: _Area, text: str) -> tuple[str, str | None, str | None, str | None]:
    """(kind, district, street, community) of the place named in `text`, inside her area."""
    district, street, community = fx.nlp.match_places(text)
    if community is not None:
        kind = "community"
    elif street is not None:
        kind = "street"
    elif district is not None:
        kind = "district"
    else:
        raise _Refused("contacts.place_unknown", place=text)
    named = community or street or district
    outside = (
        (area.district is not None and district not in (None, area.district))
        or (area.street is not None and street not in (None, area.street))
        or (area.street is not None and kind == "district")
    )
    if outside:
        raise _Refused("contacts.place_outside", place=named, jurisdiction=area.words)
    district = district or area.district
    if kind == "community":
        street = street or area.street
    if district is None:
        raise _Refused("contacts.need_street")
    return kind, district, street, community


def _register(
    fx: Effects,
    *,
    kind: str,
    name: str,
    district: str,
    street: str | None,
    community: str | None,
) -> list[Outgoing]:
    holder = fx.user.id or 0
    points = repo.contact_points(fx.session, holder_id=holder)
    same = [p for p in points if p.kind == kind]
    for point in same:
        if point.name == name:
            if kind == "household" and point.community != community:
                return [
                    Outgoing(
                        texts.t("contacts.pair_taken", name=name, community=point.community or "")
                    )
                ]
            return [
                Outgoing(texts.t("contacts.already", name=_display(point), kind=_kind_label(kind)))
            ]
    quota = repo.QUOTA[kind]
    if len(same) >= quota:
        names = "、".join(_display(p) for p in same)
        return [
            Outgoing(
                texts.t(
                    "contacts.over_quota",
                    quota=quota,
                    kind=_noun(kind),
                    count=len(same),
                    names=names,
                )
            )
        ]
    unit = repo.unit_for_place(
        fx.session,
        district=district,
        street=street if kind != "district" else None,
        community=community if kind in ("community", "household") else None,
        create_community=True,
    )
    point = repo.add_contact_point(
        fx.session,
        holder_id=holder,
        kind=kind,
        name=name,
        unit_id=unit.id,
        community=community if kind == "household" else None,
        now=fx.now,
    )
    return [
        Outgoing(
            texts.t(
                "contacts.added",
                kind=_kind_label(kind),
                name=_display(point),
                count=len(same) + 1,
                quota=quota,
            )
        )
    ]


def add_point(fx: Effects, text: str | None) -> list[Outgoing]:
    """`联系点 <地点>`: register a district, street/town or community as her contact point."""
    area = _cadre_area(fx)
    if area is None:
        return [Outgoing(texts.t("contacts.cadre_only"))]
    if not text:
        return [Outgoing(texts.t("contacts.usage"))]
    try:
        kind, district, street, community = _place(fx, area, text)
    except _Refused as refused:
        return [Outgoing(texts.t(refused.key, **refused.fmt))]
    name = {"district": district, "street": street, "community": community}[kind]
    assert name is not None
    return _register(
        fx, kind=kind, name=name, district=district or "", street=street, community=community
    )


def add_pair(fx: Effects, text: str | None) -> list[Outgoing]:
    """`结对 <化名> <社区>`: register a paired household (a pseudonym and her community)."""
    area = _cadre_area(fx)
    if area is None:
        return [Outgoing(texts.t("contacts.cadre_only"))]
    parts = _PAIR_SPLIT.split((text or "").strip(), maxsplit=1)
    if len(parts) != 2:
        return [Outgoing(texts.t("contacts.pair_usage"))]
    name, where = parts
    if len(name) > MAX_PSEUDONYM_CHARS or mask_pii(name) != name or any(c.isdigit() for c in name):
        return [Outgoing(texts.t("contacts.pair_name"))]
    try:
        kind, district, street, community = _place(fx, area, where)
    except _Refused as refused:
        return [Outgoing(texts.t(refused.key, **refused.fmt))]
    if kind != "community":
        return [Outgoing(texts.t("contacts.pair_community"))]
    return _register(
        fx,
        kind="household",
        name=name,
        district=district or "",
        street=street,
        community=community,
    )


def list_points(fx: Effects) -> list[Outgoing]:
    """`我的联系点`: her points by kind, how many of the quota each, and the last visit."""
    if _cadre_area(fx) is None:
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
