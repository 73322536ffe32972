"""我要求助: a woman's help request.

need → categories (shown, can be corrected) → district → street/community (optional) →
contact (this chat or a phone) → phone (when chosen) → summary → filed with a code. The summary
says what she consents to (her information to the responsible cadres); confirming (确认, 同意)
is her consent, a refusal (不同意) drops the flow: nothing is stored outside the dialogue before
it. Consent used to be a question of its own; folded into the confirmation it costs no turn.
Diagram: help_request.mmd.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from bot import texts
from bot.actions import Effects, open_request, unit_label
from bot.flows.base import (
    Choice,
    Consent,
    Ctx,
    FlowRun,
    FlowSpec,
    Invalid,
    labelled,
    match_choice,
    match_choices,
    normalize,
    number_of,
)
from bot.flows.runner import CONFIRM_WORDS, Flow
from bot.messages import Outgoing
from bot.nlp import Analysis, mask_pii
from bot.nlp.categories import Category
from bot.nlp.intents import intent_of
from bot.nlp.places import short_form
from bot.nlp.words import alternation, words
from storage import repo

#: words that also pick a category (besides its number and label)
CATEGORY_WORDS: dict[Category, tuple[str, ...]] = {
    code: words("help_request.categories", code) for code in Category
}
CATEGORY_CHOICES = tuple(
    Choice(code, texts.CATEGORY_LABELS[code], CATEGORY_WORDS[code]) for code in Category
)
CONTACT_CHOICES = tuple(
    Choice(value, texts.t(f"choice.contact.{value}"), words("help_request.contact", value))
    for value in ("chat", "phone")
)
MIN_NEED_CHARS = 4
#: an answer that did not fit, this long and reading as a need, is a new need
RETELL_CHARS = 8
#: '对' leading a longer answer ('对，我住海淀区学院路街道')
CONFIRM_LEAD = re.compile(rf"^(?:{alternation(CONFIRM_WORDS)})(?:[\s，,。.！!；;]|$)")
#: the correction words a new need starts with, dropped from the need kept
RETOLD_LEAD = re.compile(
    rf"^(?:(?:{alternation(words('help_request', 'retell_lead'))})[\s，,。.！!；;…]*)+"
)
_AGREE_WORDS = alternation(words("help_request.consent", "in_passing"))
DISAGREE = re.compile(rf"(?:{alternation(words('help_request', 'negations'))})(?:{_AGREE_WORDS})")
AGREE = re.compile(_AGREE_WORDS)
#: whole answers that refuse consent at the summary
REFUSALS = frozenset(
    words("help_request.consent", "no") + words("help_request.consent", "no_exact")
)


def _suggested(ctx: Ctx, slots: Mapping[str, Any]) -> list[str]:
    return list(_reading(ctx, slots).categories)


def _reading(ctx: Ctx, slots: Mapping[str, Any]) -> Analysis:
    """The NLP reading of her need (this message's when it is the need)."""
    need = str(slots.get("need") or "")
    if need and need == ctx.text.strip():
        return ctx.analysis
    return ctx.nlp.analyze(need, ctx.ref)


def _pair(ctx: Ctx, slots: Mapping[str, Any]) -> tuple[str, str] | None:
    """The two categories she is asked to choose between, when the reading is that close."""
    if "categories" in slots or not slots.get("need"):
        return None  # `修改 类别` from the summary: all six
    return _reading(ctx, slots).close_pair()


def parse_need(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """The need in her own words (at least a few characters, not a bare number; "我想问个事"
    never gets here: the conversation answers plain intents first)."""
    need = text.strip()
    if len(normalize(need)) < MIN_NEED_CHARS or number_of(need) is not None:
        raise Invalid("help.need_short")
    return need


def category_choices(ctx: Ctx, slots: Mapping[str, Any]) -> tuple[Choice, ...]:
    """The six categories; or, when her words read as two needs nearly equally, those two in
    her words (and both)."""
    pair = _pair(ctx, slots)
    if pair is None:
        return CATEGORY_CHOICES
    said = dict(_reading(ctx, slots).need_words)
    two = tuple(
        Choice(
            code,
            texts.t(
                "help.category_in_her_words", label=texts.CATEGORY_LABELS[code], word=said[code]
            )
            if code in said
            else texts.CATEGORY_LABELS[code],
            (texts.CATEGORY_LABELS[code], *CATEGORY_WORDS[Category(code)]),
        )
        for code in pair
    )
    return (*two, Choice(",".join(pair), texts.t("choice.both"), words("help_request", "both")))


def categories_key(slots: Mapping[str, Any], ctx: Ctx) -> str:
    """Which of two when close; the suggestion to confirm; or pick one when there is none."""
    if _pair(ctx, slots) is not None:
        return "help.categories_which"
    return "help.categories" if _suggested(ctx, slots) else "help.categories_none"


def parse_categories(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> list[str]:
    """'对' (also leading a longer answer: '对，我住海淀区…') keeps the suggested categories;
    numbers or labels pick others (其他 stands alone); of two close ones, 1, 2 or both."""
    choices = category_choices(ctx, slots)
    pair = _pair(ctx, slots)
    if pair is None and CONFIRM_LEAD.match(normalize(text)):
        suggested = _suggested(ctx, slots)
        if suggested:
            return suggested
        raise Invalid("help.categories_unclear")
    found = match_choices(text, choices)
    if pair is not None and len(found) > 1:
        found = [choices[-1]]  # she named both
    picked = list(dict.fromkeys(code for c in found for code in c.value.split(",")))
    if not picked:
        raise Invalid("help.categories_pick" if pair is not None else "help.categories_unclear")
    if pair is not None and len(picked) == 1:
        # her main need first; the other stays when her words read as both
        rest = [c for c in _suggested(ctx, slots) if c not in picked]
        return picked + rest
    if len(picked) > 1 and "other" in picked:
        picked.remove("other")
    return picked


def categories_prompt(slots: Mapping[str, Any], ctx: Ctx) -> dict[str, str]:
    """The suggestion shown in the categories question."""
    return {"suggested": texts.category_labels(_suggested(ctx, slots))}


def district_choices(ctx: Ctx, slots: Mapping[str, Any]) -> tuple[Choice, ...]:
    """The 16 districts as numbered choices (short names accepted)."""
    return tuple(Choice(d, d, (short_form(d),)) for d in ctx.nlp.district_names())


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


def contact_in_passing(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """How to reach her, said with another answer: only in so many words ("在这里联系我")."""
    if not any(w in text for w in words("help_request.contact", "in_passing")):
        raise Invalid("help.contact_unclear")
    return parse_contact(text, ctx, slots)


def parse_phone(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """A mainland mobile or landline number."""
    if not ctx.analysis.phones:
        raise Invalid("help.phone_invalid")
    return ctx.analysis.phones[0]


def agrees(text: str) -> bool:
    """At the summary, an unnegated 同意 ("同意", "我同意，提交吧") confirms: she consents."""
    return AGREE.search(text) is not None and DISAGREE.search(text) is None


def refuses(text: str) -> bool:
    """At the summary, a refusal to share ("不同意", "不愿意", "拒绝", a bare "不") ends the flow
    with nothing stored."""
    return DISAGREE.search(text) is not None or normalize(text) in REFUSALS


def extract(ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, Any]:
    """Fill need, place and phone from one message that says them; the categories too when
    this message is her need and its reading is clear (not two close ones: she is asked)."""
    analysis = ctx.analysis
    found: dict[str, Any] = {}
    text = ctx.text.strip()
    if analysis.primary is not None and len(normalize(text)) >= MIN_NEED_CHARS:
        found["need"] = text
    need = str(slots.get("need") or found.get("need") or "")
    if need and "categories" not in slots:
        reading = _reading(ctx, {"need": need})
        if reading.primary is not None and reading.close_pair() is None:
            found["categories"] = list(reading.categories)
    district = analysis.district
    if district and (slots.get("district") in (None, district)):
        found["district"] = district
        if analysis.street or analysis.community:
            found["street"] = {"street": analysis.street, "community": analysis.community}
    if analysis.phones:
        found["contact"] = "phone"
        found["phone"] = analysis.phones[0]
    return found


def retell(ctx: Ctx, state: str, slots: Mapping[str, Any], failed: bool) -> dict[str, Any] | None:
    """A new need mid-flow ("不对不对，我其实是想问离婚的事") replaces the need (and so its
    categories) instead of answering the question: a need the NLP reads, said with a word that
    corrects (不对, 其实…), or as an answer that did not fit at all. A category named by its
    label or number ("不对，是维权") answers the categories question instead."""
    if state == "need" or ctx.analysis.primary is None:
        return None
    text = ctx.text.strip()
    need = RETOLD_LEAD.sub("", text).strip() or text
    if len(normalize(need)) < MIN_NEED_CHARS or intent_of(need) is not None:
        return None
    corrects = any(w in text for w in words("help_request", "retell"))
    if not corrects and not (failed and len(normalize(need)) >= RETELL_CHARS):
        return None
    if state == "categories" and any(c.label in text for c in category_choices(ctx, slots)):
        return None
    if number_of(text) is not None:
        return None
    return {"need": need}


def _show_categories(value: Any) -> str:
    return texts.category_labels(list(value or [])) or texts.t("value.none")


def _show_contact(value: Any) -> str:
    shown = {"chat": texts.t("contact.chat"), "phone": texts.t("help.contact_phone")}
    return shown.get(str(value), str(value))


def _show_phone(value: Any) -> str:
    return mask_pii(str(value)) if value else texts.t("value.none")


_slot = partial(labelled, "help_request")


SPEC = FlowSpec(
    name="help_request",
    title=texts.t("help.title"),
    slots=(
        _slot("need", "help.need", parse_need, resets=("categories",)),
        _slot(
            "categories",
            "help.categories",
            parse_categories,
            dynamic_choices=category_choices,
            ask=categories_key,
            show=_show_categories,
            fmt=categories_prompt,
            quick=(texts.t("choice.right"),),
        ),
        _slot(
            "district",
            "help.district",
            parse_district,
            dynamic_choices=district_choices,
            resets=("street",),
        ),
        _slot("street", "help.street", parse_street, optional=True, show=show_street),
        _slot(
            "contact",
            "help.contact",
            parse_contact,
            choices=CONTACT_CHOICES,
            show=_show_contact,
            resets=("phone",),
            passing=contact_in_passing,
        ),
        _slot(
            "phone",
            "help.phone",
            parse_phone,
            show=_show_phone,
            when=lambda s: s.get("contact") == "phone",
        ),
    ),
    extract=extract,
    extract_on_answer=("categories", "district", "street", "contact", "phone"),
    retell=retell,
    consent=Consent(note="help.consent", refused="help.no_consent", agrees=agrees, refuses=refuses),
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
        attention=bool(run.meta.get("attention")),  # 需关注: she answered 安全 to a safety check
    )
    key = "help.filed_urgent" if crisis else "help.filed"
    if unit.parent_id is None and not repo.cadres_by_unit(fx.session, unit_ids=[unit.id or 0]):
        key = "help.filed_city"  # nobody bound on her path: the truth about who has it
    return [Outgoing(texts.t(key, code=request.code, unit=unit_label(unit)), urgent=crisis)]


def route(ctx: Ctx) -> dict[str, Any] | None:
    """Free text at idle that says a need starts a request, prefilled (a crisis never gets
    here: the conversation opens an urgent case at once, bot/domain/urgent.py)."""
    return {} if ctx.analysis.primary is not None else None


FLOW = Flow(
    spec=SPEC,
    words=words("help_request", "entry"),
    finish=finish,
    menu=(20, texts.t("menu.entry.help_request")),
    route=route,
)
