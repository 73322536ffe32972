"""走访记录: a cadre files a visit in the diary (妇情日记).

date (not in the future) → place within her jurisdiction → (a 社区/村 the org tree does not know:
confirm it as new) → form → whom (a pseudonym, how many) → focus groups → notes (tagged by the
NLP) → open a help request for her/them? → summary → filed. Diagram: visit_report.mmd.

One rich visit note fills every slot it answers: date, place, form, whom and how many (王某（1人）,
8位全职妈妈: bot/nlp/whom.py), focus, notes and open_help (不用建求助单), so that the bot asks only
for what the note lacks. What the note says but cannot be taken (a future date, a place outside
her jurisdiction) is not dropped silently: the question for it says why, once.

A 社区/村 is checked against the org tree. The seeded tree stops at 街道/乡镇 and a community
enters it once something is filed there (`repo.unit_for_place`), so refusing every community the
tree does not know would make each first visit to a community impossible; instead a community
unknown in her jurisdiction (月球社区, or a real one nobody filed yet) is asked about once:
"是新的社区/村吗？". 是 keeps it, marked 新社区 in the summary and added to the tree when the visit
is filed (so it is known next time); 否 asks the place again. The known communities are looked up
when the flow starts (`start`) and kept in the run's meta.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    Redo,
    UserView,
    labelled,
    match_choice,
    match_choices,
    normalize,
)
from bot.flows.runner import Flow, Start, Turn
from bot.messages import Outgoing
from bot.nlp import find_id_numbers, find_phones, mask_pii, parse_date
from bot.nlp.whom import find_whom, help_in_note, split_count
from bot.nlp.words import sections, table, words
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
COMMUNITIES = "communities"  # run.meta: the org tree's 社区/村 in her jurisdiction
NEW = "new"  # place["new"]: a 社区/村 the org tree does not know, confirmed as new
# Words that answer the bot, never name a person: commands, confirm/edit/skip answers, entry
# words, the yes/no labels ("确认" is not whom she visited).
NOT_WHOM = frozenset(
    {
        *(
            w
            for section in ("commands", "code_commands", "answers")
            for ws in table(section).values()
            for w in ws
        ),
        *(w for section in sections() for w in table(section).get("entry", ())),
        texts.t("choice.yes"),
        texts.t("choice.no"),
    }
)
# Where a reason from the place question becomes one about what the note said.
NOTE_REASONS = {
    "visit.place_outside": "visit.note_place_outside",
    "visit.place_unknown": "visit.note_place_unknown",
}


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


def place_of(text: str, ctx: Ctx) -> dict[str, Any]:
    """The place named in `text`, completed from the cadre's own unit and from the org tree's
    communities (a community's street); Invalid if outside her jurisdiction. A community the
    tree does not know there is marked `new` (asked about: `parse_new_community`)."""
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
    new = False
    if community is not None:
        known = [
            (d, s)
            for d, s, name in ctx.meta.get(COMMUNITIES, [])
            if name == community and district in (None, d) and street in (None, s)
        ]
        if len(set(known)) == 1:
            district, street = known[0]
        new = not known
    if district is None:
        raise Invalid("visit.place_unknown")
    place: dict[str, Any] = {"district": district, "street": street, "community": community}
    if new:
        place[NEW] = True
    return place


def parse_place(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, str | None]:
    """A place inside the cadre's jurisdiction."""
    return place_of(text, ctx)


def show_place(value: Any) -> str:
    """'朝阳区双井街道九龙社区', with （新社区） after a community confirmed as new."""
    if not value:
        return texts.t("value.none")
    shown = "".join(str(value.get(k) or "") for k in ("district", "street", "community"))
    return shown + texts.t("visit.new_mark") if value.get(NEW) else shown


def is_new_community(slots: Mapping[str, Any]) -> bool:
    """The place names a 社区/村 the org tree does not know."""
    return bool((slots.get("place") or {}).get(NEW))


def parse_new_community(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> bool:
    """是: keep the community as a new one; 否: ask the place again."""
    choice = match_choice(text, YES_NO)
    if choice is None:
        raise Invalid("visit.new_community_unclear")
    if choice.value == "no":
        raise Redo("visit.community_not_new", "place")
    return True


def community_fmt(slots: Mapping[str, Any], ctx: Ctx) -> dict[str, str]:
    """The community asked about."""
    return {"community": str((slots.get("place") or {}).get("community") or "")}


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
    """Whom she visited (a pseudonym) and how many people ("王某，1人" → 王某, 1).

    Refused: a word that answers the bot (确认, 取消, 修改, 菜单…), and anything with a phone or
    ID number (a real person's contact data; the help text asks for a pseudonym). A bare name
    without them is kept as written: it cannot be told from a nickname (高大姐, 宝妈), and the
    question and its help ask for a pseudonym."""
    answer = normalize(text)
    if answer in NOT_WHOM:
        raise Invalid("visit.whom_command", word=answer)
    if find_phones(text) or find_id_numbers(text) or mask_pii(text) != text:
        raise Invalid("visit.whom_private")
    name, count = split_count(text)
    if len(normalize(name)) < 2:
        raise Invalid("visit.whom_short")
    return {"name": name, "people": count or 1}


def she(slots: Mapping[str, Any]) -> str:
    """她, or 她们 when the visit was with more than one person."""
    people = int((slots.get("whom") or {}).get("people") or 1)
    return texts.t("visit.she.many" if people > 1 else "visit.she.one")


def pronoun(slots: Mapping[str, Any], ctx: Ctx) -> dict[str, str]:
    """The prompt's {she}: 她 or 她们."""
    return {"she": she(slots)}


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
    """Whether to open a help request for the visited woman ("不用建单" answers it too)."""
    said = help_in_note(text)
    if said is not None:
        return said
    choice = match_choice(text, YES_NO)
    if choice is None:
        raise Invalid("visit.open_help_unclear")
    return choice.value == "yes"


def extract(ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, Any]:
    """Fill every slot a visit note answers: date, place, form, whom, focus, notes, open_help.

    A future date or a place outside her jurisdiction is given as `Invalid`: the runner asks
    for it with the reason ("笔记里的日期 … 在今天之后")."""
    analysis = ctx.analysis
    found: dict[str, Any] = {}
    if analysis.date is not None:
        day = analysis.date.isoformat()
        fit = analysis.date <= ctx.ref
        found["date"] = day if fit else Invalid("visit.note_date_future", date=day)
    if analysis.district or analysis.street or analysis.community:
        try:
            found["place"] = place_of(ctx.text, ctx)
        except Invalid as problem:
            found["place"] = Invalid(NOTE_REASONS.get(problem.key, problem.key), **problem.fmt)
    whom = find_whom(ctx.text)
    if whom is not None:
        found["whom"] = {"name": whom.name, "people": whom.people}
    wants = help_in_note(ctx.text)
    if wants is not None:
        found["open_help"] = wants
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
        _slot(
            "place",
            "visit.place",
            parse_place,
            show=show_place,
            fmt=place_help,
            resets=("new_community",),
        ),
        _slot(
            "new_community",
            "visit.new_community",
            parse_new_community,
            choices=YES_NO,
            when=is_new_community,
            in_summary=False,
            fmt=community_fmt,
        ),
        _slot("form", "visit.form", parse_form, choices=FORM_CHOICES, show=show_form),
        _slot("whom", "visit.whom", parse_whom, show=show_whom),
        _slot("focus", "visit.focus", parse_focus, choices=FOCUS_CHOICES),
        _slot("notes", "visit.notes", parse_notes, fmt=pronoun),
        _slot(
            "open_help",
            "visit.open_help",
            parse_open_help,
            choices=YES_NO,
            show=lambda v: texts.t("choice.yes" if v else "choice.no"),
            fmt=pronoun,
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
        replies.append(
            texts.t("visit.filed_help", code=request_code, unit=unit_label(unit), she=she(slots))
        )
    if place.get(NEW) and place.get("street") and place.get("community"):
        repo.unit_for_place(
            fx.session,
            district=place.get("district"),
            street=place.get("street"),
            community=place.get("community"),
            create_community=True,
        )
        replies.append(texts.t("visit.filed_community", community=place["community"]))
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


def start(begin: Start) -> Turn:
    """Begin a visit knowing the org tree's 社区/村 in her jurisdiction (kept in the run's meta:
    the place is checked against them)."""
    user = begin.ctx.user
    known = repo.communities_in(begin.fx.session, district=user.district, street=user.street)
    meta = {**(begin.meta or {}), COMMUNITIES: [list(k) for k in known]}
    return begin.runner.start(begin.ctx, prefill=begin.prefill, meta=meta)


FLOW = Flow(
    spec=SPEC,
    words=words("visit_report", "entry"),
    finish=finish,
    who="cadre",
    refusal="visit.cadre_only",
    menu=(10, texts.t("menu.entry.visit_report")),
    menu_for="cadre",
    route=route,
    start=start,
)
