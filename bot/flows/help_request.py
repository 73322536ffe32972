"""我要求助: a woman's help request.

need → categories (shown, can be corrected) → district → street/community (optional) →
contact (this chat or a phone) → phone (when chosen) → consent → summary → filed with a code.
Nothing is stored outside the dialogue until she consents and confirms; declining consent drops
the flow. Diagram: help_request.mmd.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import texts
from bot.actions import Effects, open_request, unit_label
from bot.flows.base import (
    Abort,
    Choice,
    Ctx,
    FlowRun,
    FlowSpec,
    Invalid,
    Slot,
    match_choice,
    match_choices,
    normalize,
    number_of,
)
from bot.flows.runner import CONFIRM_WORDS, Flow
from bot.messages import Outgoing
from bot.nlp import mask_pii
from bot.nlp.categories import Category
from storage import repo

#: words that also pick a category (besides its number and label)
CATEGORY_WORDS: dict[Category, tuple[str, ...]] = {
    Category.JOBS: ("工作", "就业", "创业", "找活"),
    Category.HEALTH: ("看病", "身体", "体检", "医疗"),
    Category.KNOWLEDGE: ("培训", "学习", "政策", "咨询"),
    Category.RELIEF: ("困难", "救助", "补助", "生活"),
    Category.RIGHTS: ("家暴", "离婚", "纠纷", "法律"),
    Category.OTHER: (),
}
CATEGORY_CHOICES = tuple(
    Choice(code, texts.CATEGORY_LABELS[code], CATEGORY_WORDS[code]) for code in Category
)
CONTACT_CHOICES = (
    Choice("chat", "就在这里联系我", ("这里", "对话", "微信", "在这", "聊天")),
    Choice("phone", "留个电话", ("电话", "手机", "打给我")),
)
CONSENT_CHOICES = (
    Choice("yes", "同意", ("可以", "好的", "行", "愿意", "没问题", "是")),
    Choice("no", "不同意", ("不行", "不愿意", "不可以", "拒绝", "不要")),
)
MIN_NEED_CHARS = 4


def _suggested(ctx: Ctx, slots: Mapping[str, Any]) -> list[str]:
    need = slots.get("need")
    if not need:
        return []
    return list(ctx.nlp.analyze(str(need), ctx.ref).categories)


def parse_need(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """The need in her own words (at least a few characters, not a bare number)."""
    need = text.strip()
    if len(normalize(need)) < MIN_NEED_CHARS or number_of(need) is not None:
        raise Invalid("help.need_short")
    return need


def parse_categories(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> list[str]:
    """'对' keeps the suggested categories; numbers or labels pick others (其他 stands alone)."""
    if normalize(text) in CONFIRM_WORDS:
        suggested = _suggested(ctx, slots)
        if suggested:
            return suggested
        raise Invalid("help.categories_unclear")
    picked = [c.value for c in match_choices(text, CATEGORY_CHOICES)]
    if not picked:
        raise Invalid("help.categories_unclear")
    if len(picked) > 1 and "other" in picked:
        picked.remove("other")
    return picked


def categories_prompt(slots: Mapping[str, Any], ctx: Ctx) -> dict[str, str]:
    """The suggestion shown in the categories question."""
    return {
        "suggested": texts.category_labels(_suggested(ctx, slots)) or texts.t("value.unrecognised")
    }


def district_choices(ctx: Ctx) -> tuple[Choice, ...]:
    """The 16 districts as numbered choices (short names accepted)."""
    return tuple(Choice(d, d, (d.removesuffix("区"),)) for d in ctx.nlp.district_names())


def parse_district(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """A district by number or name; a street named alone implies its district."""
    number = number_of(text)
    names = ctx.nlp.district_names()
    if number is not None and 1 <= number <= len(names):
        return names[number - 1]
    district, _street, _community = ctx.nlp.match_places(text)
    if district is None:
        raise Invalid("help.district_unknown")
    return district


def parse_street(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, str | None]:
    """The 街道/乡镇 and/or community inside the chosen district."""
    district = str(slots.get("district") or "")
    found_district, street, community = ctx.nlp.match_places(text)
    if found_district not in (None, district) or (street is None and community is None):
        raise Invalid("help.street_unknown", district=district)
    if street is not None and street not in ctx.nlp.streets_of(district):
        raise Invalid("help.street_unknown", district=district)
    return {"street": street, "community": community}


def show_street(value: Any) -> str:
    """'双井街道 九龙社区' or 未填."""
    if not value:
        return texts.t("value.none")
    parts = [value.get("street"), value.get("community")]
    return " ".join(p for p in parts if p) or texts.t("value.none")


def parse_contact(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """'chat' or 'phone'; a phone number in the answer means phone."""
    if ctx.analysis.phones:
        return "phone"
    choice = match_choice(text, CONTACT_CHOICES)
    if choice is None:
        raise Invalid("help.contact_unclear")
    return choice.value


def parse_phone(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """A mainland mobile or landline number."""
    if not ctx.analysis.phones:
        raise Invalid("help.phone_invalid")
    return ctx.analysis.phones[0]


def parse_consent(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> bool:
    """Consent to share with the cadres; a refusal ends the flow with nothing stored."""
    choice = match_choice(text, CONSENT_CHOICES)
    if choice is None and normalize(text) in ("不", "否", "no"):
        choice = CONSENT_CHOICES[1]
    if choice is None:
        raise Invalid("help.consent_unclear")
    if choice.value == "no":
        raise Abort("help.no_consent")
    return True


def extract(ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, Any]:
    """Fill need, place and phone from one message that says them."""
    analysis = ctx.analysis
    found: dict[str, Any] = {}
    if analysis.primary is not None and len(normalize(ctx.text)) >= MIN_NEED_CHARS:
        found["need"] = ctx.text.strip()
    district = analysis.district
    if district and (slots.get("district") in (None, district)):
        found["district"] = district
        if analysis.street or analysis.community:
            found["street"] = {"street": analysis.street, "community": analysis.community}
    if analysis.phones:
        found["contact"] = "phone"
        found["phone"] = analysis.phones[0]
    return found


def _show_categories(value: Any) -> str:
    return texts.category_labels(list(value or [])) or texts.t("value.none")


def _show_contact(value: Any) -> str:
    return {"chat": texts.t("contact.chat"), "phone": "电话"}.get(str(value), str(value))


def _show_phone(value: Any) -> str:
    return mask_pii(str(value)) if value else texts.t("value.none")


SPEC = FlowSpec(
    name="help_request",
    title=texts.t("help.title"),
    slots=(
        Slot(
            "need",
            "困难",
            "help.need",
            parse_need,
            aliases=("需求", "情况", "内容"),
            resets=("categories",),
        ),
        Slot(
            "categories",
            "类别",
            "help.categories",
            parse_categories,
            choices=CATEGORY_CHOICES,
            show=_show_categories,
            fmt=categories_prompt,
            aliases=("分类",),
            quick=("对",),
        ),
        Slot(
            "district",
            "区",
            "help.district",
            parse_district,
            dynamic_choices=district_choices,
            aliases=("地点", "地址", "所在区", "区县"),
            resets=("street",),
        ),
        Slot(
            "street",
            "街道社区",
            "help.street",
            parse_street,
            optional=True,
            show=show_street,
            aliases=("街道", "社区", "乡镇", "村"),
        ),
        Slot(
            "contact",
            "联系方式",
            "help.contact",
            parse_contact,
            choices=CONTACT_CHOICES,
            show=_show_contact,
            resets=("phone",),
        ),
        Slot(
            "phone",
            "电话",
            "help.phone",
            parse_phone,
            show=_show_phone,
            when=lambda s: s.get("contact") == "phone",
            aliases=("手机", "号码"),
        ),
        Slot(
            "consent",
            "同意转交",
            "help.consent",
            parse_consent,
            choices=CONSENT_CHOICES,
            show=lambda v: "同意" if v else "不同意",
            aliases=("同意",),
        ),
    ),
    extract=extract,
    extract_on_answer=("district", "street", "contact", "phone"),
)


def finish(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The help flow was confirmed: record consent, file the request, tell her the code."""
    slots = run.slots
    need = str(slots["need"])
    place = slots.get("street") or {}
    crisis = bool(run.meta.get("crisis")) or fx.nlp.analyze(need, fx.ref).crisis
    repo.set_consent(fx.session, user=fx.user, now=fx.now)
    phone = slots.get("phone") if slots.get("contact") == "phone" else None
    if phone:
        fx.user.phone = str(phone)
    request, unit = open_request(
        fx,
        need=need,
        categories=list(slots.get("categories") or []),
        crisis=crisis,
        district=slots.get("district"),
        street=place.get("street"),
        community=place.get("community"),
        contact=str(slots.get("contact") or "chat"),
        phone=phone,
        requester=fx.user,
        source="chat",
    )
    key = "help.filed_urgent" if crisis else "help.filed"
    return [Outgoing(texts.t(key, code=request.code, unit=unit_label(unit)), urgent=crisis)]


def route(ctx: Ctx) -> dict[str, Any] | None:
    """Free text at idle that says a need (or a crisis) starts a request, prefilled."""
    analysis = ctx.analysis
    if analysis.crisis:
        return {"crisis": True}
    return {} if analysis.primary is not None else None


FLOW = Flow(
    spec=SPEC,
    words=("我要求助", "求助", "我需要帮助"),
    finish=finish,
    menu=(20, "我要求助"),
    route=route,
)
