"""走访记录: a cadre files a visit in the diary (妇情日记).

date (not in the future) → place within her jurisdiction → form → whom (a pseudonym, how many)
→ focus groups → notes (tagged by the NLP) → open a help request for her? → summary → filed.
One rich visit note fills date, place, form, focus and notes at once. Diagram: visit_report.mmd.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import date
from functools import partial
from typing import Any

from bot import texts
from bot.actions import Effects, open_request, place_text, unit_label
from bot.flows.base import (
    Choice,
    Ctx,
    FlowRun,
    FlowSpec,
    Invalid,
    UserView,
    labelled,
    match_choice,
    match_choices,
    normalize,
)
from bot.flows.runner import Flow
from bot.messages import Outgoing
from bot.nlp import mask_pii, parse_count, parse_date
from bot.nlp.words import table, words
from storage import repo

# The four forms and the focus groups are TAXONOMY.md values: stored as they are, shown as
# their own labels; "another kind of visit" is stored as ''.
FORM_CHOICES = (
    *(Choice(form, form, syn) for form, syn in table("visit_report.forms").items()),
    Choice("", texts.t("visit.other_form"), words("visit_report", "other_form")),
)
FOCUS_CHOICES = tuple(Choice(name, name, syn) for name, syn in table("visit_report.focus").items())
YES_NO = (
    Choice("yes", texts.t("choice.yes"), words("visit_report.open_help", "yes")),
    Choice("no", texts.t("choice.no"), words("visit_report.open_help", "no")),
)
NONE_WORDS = words("visit_report", "none")
NOTE_MARKERS = words("visit_report", "note_markers")  # free text with these reads as a visit
MIN_NOTES_CHARS = 6
NOTE_CHARS = 15  # a message this long that says a need is taken as the visit notes


def jurisdiction(user: UserView) -> str:
    """The cadre's area in words ('朝阳区双井街道', or 全市)."""
    return "".join(p for p in (user.district, user.street) if p) or texts.t("area.city")


def parse_visit_date(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """A past or present date (ISO string)."""
    found = parse_date(text, ctx.ref)
    if found is None:
        raise Invalid("visit.date_unknown")
    if found > ctx.ref:
        raise Invalid("visit.date_future", date=found.isoformat())
    return found.isoformat()


def place_of(text: str, ctx: Ctx) -> dict[str, str | None]:
    """The place named in `text`, completed from the cadre's own unit; Invalid if outside it."""
    district, street, community = ctx.nlp.match_places(text)
    user = ctx.user
    if district is None and street is None and community is None:
        raise Invalid("visit.place_unknown")
    named = "".join(p for p in (district, street) if p) or str(community)
    if user.district and district and district != user.district:
        raise Invalid("visit.place_outside", place=named, jurisdiction=jurisdiction(user))
    if user.street and street and street != user.street:
        raise Invalid("visit.place_outside", place=named, jurisdiction=jurisdiction(user))
    district = district or user.district
    street = street or user.street
    if district is None:
        raise Invalid("visit.place_unknown")
    return {"district": district, "street": street, "community": community}


def parse_place(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, str | None]:
    """A place inside the cadre's jurisdiction."""
    return place_of(text, ctx)


def show_place(value: Any) -> str:
    """'朝阳区双井街道九龙社区'."""
    if not value:
        return texts.t("value.none")
    return "".join(str(value.get(k) or "") for k in ("district", "street", "community"))


def parse_form(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """One of the four forms, or '' for another kind of visit."""
    choice = match_choice(text, FORM_CHOICES)
    if choice is not None:
        return choice.value
    if ctx.analysis.visit_form:
        return ctx.analysis.visit_form
    raise Invalid("visit.form_unclear")


def show_form(value: Any) -> str:
    """The form, or 其他走访."""
    return str(value) if value else texts.t("visit.other_form")


def parse_whom(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, Any]:
    """Whom she visited (a pseudonym) and how many people."""
    whom = text.strip()
    if len(normalize(whom)) < 2:
        raise Invalid("visit.whom_short")
    return {"name": whom, "people": parse_count(whom) or 1}


def show_whom(value: Any) -> str:
    """'王某（1人）'."""
    if not value:
        return texts.t("value.none")
    return texts.t("visit.whom_value", name=value["name"], people=value["people"])


def parse_focus(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> list[str]:
    """Focus groups by number or name; 无 for none."""
    if normalize(text) in NONE_WORDS:
        return []
    picked = [c.value for c in match_choices(text, FOCUS_CHOICES)]
    if not picked:
        picked = list(ctx.analysis.focus)
    if not picked:
        raise Invalid("visit.focus_unclear")
    return picked


def parse_notes(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """What she learned, in a few sentences."""
    notes = text.strip()
    if len(normalize(notes)) < MIN_NOTES_CHARS:
        raise Invalid("visit.notes_short")
    return notes


def parse_open_help(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> bool:
    """Whether to open a help request for the visited woman."""
    choice = match_choice(text, YES_NO)
    if choice is None:
        raise Invalid("visit.open_help_unclear")
    return choice.value == "yes"


def extract(ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, Any]:
    """Fill date, place, form, focus and notes from a visit note."""
    analysis = ctx.analysis
    found: dict[str, Any] = {}
    if analysis.date is not None and analysis.date <= ctx.ref:
        found["date"] = analysis.date.isoformat()
    if analysis.district or analysis.street or analysis.community:
        with suppress(Invalid):  # asked explicitly later, where the reason is shown
            found["place"] = place_of(ctx.text, ctx)
    if analysis.visit_form:
        found["form"] = analysis.visit_form
    if analysis.focus:
        found["focus"] = list(analysis.focus)
    if len(normalize(ctx.text)) >= NOTE_CHARS and analysis.primary is not None:
        found["notes"] = ctx.text.strip()
    return found


def place_help(slots: Mapping[str, Any], ctx: Ctx) -> dict[str, str]:
    """The cadre's jurisdiction for the place question's help."""
    return {"jurisdiction": jurisdiction(ctx.user)}


def show_date(value: Any) -> str:
    """ISO date as stored."""
    return date.fromisoformat(str(value)).isoformat() if value else texts.t("value.none")


_slot = partial(labelled, "visit_report")


SPEC = FlowSpec(
    name="visit_report",
    title=texts.t("visit.title"),
    slots=(
        _slot("date", "visit.date", parse_visit_date, show=show_date),
        _slot("place", "visit.place", parse_place, show=show_place, fmt=place_help),
        _slot("form", "visit.form", parse_form, choices=FORM_CHOICES, show=show_form),
        _slot("whom", "visit.whom", parse_whom, show=show_whom),
        _slot("focus", "visit.focus", parse_focus, choices=FOCUS_CHOICES),
        _slot("notes", "visit.notes", parse_notes),
        _slot(
            "open_help",
            "visit.open_help",
            parse_open_help,
            choices=YES_NO,
            show=lambda v: texts.t("choice.yes" if v else "choice.no"),
        ),
    ),
    extract=extract,
    extract_on_answer=("date", "place"),
)


def finish(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The visit flow was confirmed: file the visit (tagged), and a request if asked."""
    slots = run.slots
    place = slots["place"]
    analysis = fx.nlp.analyze(str(slots["notes"]), fx.ref)
    notes = mask_pii(str(slots["notes"]))  # stored with phone and ID numbers masked
    whom = slots["whom"]
    request_code = None
    replies = []
    request_id = None
    if slots.get("open_help"):
        request, unit = open_request(
            fx,
            need=notes,
            categories=list(analysis.categories),
            crisis=analysis.crisis,
            district=place.get("district"),
            street=place.get("street"),
            community=place.get("community"),
            contact="visit",
            phone=None,
            requester=None,
            source="visit",
        )
        request_code, request_id = request.code, request.id
        replies.append(texts.t("visit.filed_help", code=request_code, unit=unit_label(unit)))
    repo.create_visit(
        fx.session,
        cadre_id=fx.user.id or 0,
        unit_id=fx.user.unit_id or 0,
        on=date.fromisoformat(str(slots["date"])),
        district=place.get("district"),
        street=place.get("street"),
        community=place.get("community"),
        visit_form=slots.get("form") or None,
        whom=str(whom["name"]),
        people=int(whom["people"]),
        focus=list(slots.get("focus") or []),
        notes=notes,
        primary=analysis.primary,
        categories=list(analysis.categories),
        help_request_id=request_id,
        now=fx.now,
    )
    filed = texts.t(
        "visit.filed",
        date=slots["date"],
        place=place_text(place.get("district"), place.get("street"), place.get("community")),
        form=slots.get("form") or texts.t("visit.other_form"),
    )
    return [Outgoing("\n".join([filed, *replies]))]


def route(ctx: Ctx) -> dict[str, Any] | None:
    """A cadre's free text at idle that reads as a visit note starts a visit, prefilled: when it
    says when, where or how she visited."""
    if not ctx.user.is_cadre:
        return None
    analysis = ctx.analysis
    if analysis.visit_form is not None:
        return {}
    text = ctx.text
    said = sum(
        x is not None
        for x in (analysis.date, analysis.district or analysis.street or analysis.community)
    )
    reads = (
        said >= 1
        and len(text) >= NOTE_CHARS
        and (any(w in text for w in NOTE_MARKERS) or said == 2 or bool(analysis.focus))
    )
    return {} if reads else None


FLOW = Flow(
    spec=SPEC,
    words=words("visit_report", "entry"),
    finish=finish,
    who="cadre",
    refusal="visit.cadre_only",
    menu=(10, texts.t("menu.entry.visit_report")),
    menu_for="cadre",
    route=route,
)
