"""联系点 and 结对: a cadre's contact points and paired households (联系基层工作制度).

Like 查询进度 this is a set of one-message commands with no dialogue state, so it has no machine
and no diagram. `联系点 <地点>` registers a district, a 街道/乡镇 or a 社区/村; `结对 <化名> <社区>`
registers a paired household; `我的联系点` lists them with the quota of each kind and the date of
the last visit to each. The rules (jurisdiction, pseudonyms, quotas) are
`bot.domain.contacts`, which the staff API's `POST /api/v1/contact-points` calls too.
"""

from __future__ import annotations

from bot import texts
from bot.actions import Effects
from bot.domain.contacts import (
    KINDS,
    PAIR_SPLIT,
    Refused,
    Registration,
    cadre_area,
    display,
    register_household,
    register_place,
)
from bot.messages import Outgoing
from storage import repo


def _kind_label(kind: str) -> str:
    return texts.t(f"contacts.kind.{kind}")


def _noun(kind: str) -> str:
    return texts.t(f"contacts.noun.{kind}")


def _answer(done: Registration) -> list[Outgoing]:
    kind = done.point.kind
    if not done.added:
        return [
            Outgoing(texts.t("contacts.already", name=display(done.point), kind=_kind_label(kind)))
        ]
    return [
        Outgoing(
            texts.t(
                "contacts.added",
                kind=_kind_label(kind),
                name=display(done.point),
                count=done.count,
                quota=done.quota,
            )
        )
    ]


def add_point(fx: Effects, text: str | None) -> list[Outgoing]:
    """`联系点 <地点>`: register a district, street/town or community as her contact point."""
    if cadre_area(fx.session, fx.user) is None:
        return [Outgoing(texts.t("contacts.cadre_only"))]
    if not text:
        return [Outgoing(texts.t("contacts.usage"))]
    try:
        done = register_place(fx.session, user=fx.user, nlp=fx.nlp, now=fx.now, text=text)
    except Refused as refused:
        return [Outgoing(texts.t(refused.key, **refused.fields))]
    return _answer(done)


def add_pair(fx: Effects, text: str | None) -> list[Outgoing]:
    """`结对 <化名> <社区>`: register a paired household (a pseudonym and her community)."""
    if cadre_area(fx.session, fx.user) is None:
        return [Outgoing(texts.t("contacts.cadre_only"))]
    parts = PAIR_SPLIT.split((text or "").strip(), maxsplit=1)
    if len(parts) != 2:
        return [Outgoing(texts.t("contacts.pair_usage"))]
    name, where = parts
    try:
        done = register_household(
            fx.session, user=fx.user, nlp=fx.nlp, now=fx.now, name=name, community=where
        )
    except Refused as refused:
        return [Outgoing(texts.t(refused.key, **refused.fields))]
    return _answer(done)


def list_points(fx: Effects) -> list[Outgoing]:
    """`我的联系点`: her points by kind, how many of the quota each, and the last visit."""
    if cadre_area(fx.session, fx.user) is None:
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
                    name=display(point),
                    kind=_noun(kind),
                    last=last.isoformat() if last else texts.t("contacts.never"),
                )
            )
    return [Outgoing("\n".join(lines))]
