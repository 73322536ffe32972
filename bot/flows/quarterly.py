"""季度汇总: a district-level unit's cadre sees the quarter's figures and submits them.

quarter (asked only when two are open) → summary (the figures) → `提交` (or 确认) submits the
snapshot she saw; `修改` goes to the optional remark (说明) first and back to the summary.
The open quarters are the current one and the previous one, unless submitted or accepted (a
returned summary is open again); the default is the one whose due date is nearest. They and
their figures are looked up once when the flow starts (`begin`, by
`bot.domain.reviews.open_quarters`) and kept in hidden slots (`_open`, `_default`, the figures
as their JSON), so the parsers stay pure. Only cadres of a district-level unit submit;
everyone else gets a short explanation. Diagram: quarterly.mmd.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from bot import texts
from bot.actions import Effects
from bot.domain.figures import QuarterFigures
from bot.domain.quarters import Quarter
from bot.domain.reviews import nearest_due, open_quarters
from bot.flows.base import (
    Choice,
    Ctx,
    FlowRun,
    FlowSpec,
    Invalid,
    labelled,
    match_choice,
    normalize,
)
from bot.flows.runner import CONFIRM_WORDS, Flow, FlowRunner, Start, Turn
from bot.messages import Outgoing
from bot.nlp import mask_pii
from bot.nlp.words import table, words
from bot.reporting.figures import compile_figures
from bot.reporting.text import figures_text
from storage import repo
from storage.models import OrgUnit
from storage.orgtree import UnitPath

MIN_REMARK_CHARS = 2
# A bare `修改` at the summary means: write the remark.
EDIT_WORDS = words("quarterly", "edit")
DEFAULT_WORDS = (*CONFIRM_WORDS, *words("quarterly", "default"))
QUARTER_WORDS = table("quarterly.quarters")
REMARK = "remark"


def district_unit(fx: Effects) -> OrgUnit | None:
    """The cadre's unit when it is district-level (a child of the city), else None."""
    if fx.user.role != "cadre" or not fx.user.unit_id:
        return None
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id)
    if unit is None or not UnitPath.parse(unit.path).is_district:
        return None
    return unit


def begin(fx: Effects, *, due_days: int) -> dict[str, Any] | list[Outgoing]:
    """The flow's first slots (open quarters with their figures), or the reason it cannot run."""
    unit = district_unit(fx)
    if unit is None:
        return [Outgoing(texts.t("quarterly.district_only"))]
    found = open_quarters(fx.session, unit=unit, today=fx.ref, due_days=due_days)
    if not found:
        current = Quarter.of(fx.ref)
        names = texts.t("list.sep").join(str(q) for q in (current.previous(), current))
        return [Outgoing(texts.t("quarterly.none_open", quarters=names))]
    entries = [
        {
            "quarter": str(entry.quarter),
            "due": entry.due.isoformat(),
            "late": entry.late,
            "figures": compile_figures(
                fx.session,
                unit=unit,
                quarter=entry.quarter,
                nlp=fx.nlp,
                tz=fx.tz,
                now=fx.now,
                answer_within=fx.limits.answer_within,
            ).to_json(),
        }
        for entry in found
    ]
    default = str(nearest_due(found, today=fx.ref).quarter)
    slots: dict[str, Any] = {"_open": entries, "_default": default, "remark": None}
    if len(entries) == 1:
        slots["quarter"] = entries[0]
    return slots


def start(runner: FlowRunner, ctx: Ctx, *, slots: dict[str, Any]) -> Turn:
    """Begin with the slots `begin` found: ask for the quarter, or go straight to the summary."""
    run = FlowRun(runner.spec, slots=slots)
    runner.machine.fire(run, "advance", runner.spec.slots[0].name)
    return Turn(run, run.state, [runner.prompt(run, run.state, ctx)])


def begin_flow(begin_: Start) -> Turn | list[Outgoing]:
    """季度汇总: look up the open quarters and their figures, then ask or summarise (or say why
    it cannot run)."""
    begun = begin(begin_.fx, due_days=begin_.settings.report_due_days)
    if isinstance(begun, list):
        return begun
    return start(begin_.runner, begin_.ctx, slots=begun)


def edit_word(text: str, state: str) -> str | None:
    """The field a bare `修改` at the summary means (the remark); None for anything else."""
    return REMARK if state == "summary" and normalize(text) in EDIT_WORDS else None


def _label(quarter: Quarter, current: Quarter) -> Choice:
    relative = QUARTER_WORDS["current" if quarter == current else "previous"]
    named = QUARTER_WORDS[f"q{quarter.q}"]
    synonyms = (*relative, *named, f"Q{quarter.q}", f"q{quarter.q}", str(quarter).lower())
    return Choice(str(quarter), str(quarter), synonyms)


def quarter_choices(ctx: Ctx) -> tuple[Choice, ...]:
    """The previous and the current quarter (asked only when both are open)."""
    current = Quarter.of(ctx.ref)
    return (_label(current.previous(), current), _label(current, current))


def parse_quarter(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, Any]:
    """One of the open quarters, by number, name (2026Q1, 本季度, 一季度), or 好 for the default."""
    entries = {e["quarter"]: e for e in slots.get("_open") or []}
    if normalize(text) in DEFAULT_WORDS:
        wanted = str(slots.get("_default") or "")
    else:
        choice = match_choice(text, quarter_choices(ctx))
        if choice is None:
            raise Invalid("quarterly.quarter_unclear")
        wanted = choice.value
    if wanted not in entries:
        raise Invalid("quarterly.quarter_closed", quarter=wanted)
    return dict(entries[wanted])


def quarter_prompt(slots: Mapping[str, Any], ctx: Ctx) -> dict[str, str]:
    """Each open quarter's due date, and the default, for the question."""
    lines = [
        texts.t(
            "quarterly.due_line",
            quarter=e["quarter"],
            due=e["due"],
            late=texts.t("quarterly.late") if e["late"] else "",
        )
        for e in slots.get("_open") or []
    ]
    due_lines = texts.t("list.sep").join(lines)
    return {"due_lines": due_lines, "default": str(slots.get("_default") or "")}


def show_quarter(value: Any) -> str:
    """The quarter, its due date and its figures."""
    if not value:
        return texts.t("value.none")
    return texts.t(
        "quarterly.figures",
        quarter=value["quarter"],
        due=value["due"],
        figures=figures_text(QuarterFigures.from_json(value["figures"])),
    )


def parse_remark(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> str:
    """A few words to send up with the figures."""
    remark = text.strip()
    if len(normalize(remark)) < MIN_REMARK_CHARS:
        raise Invalid("quarterly.remark_short")
    return remark


_slot = partial(labelled, "quarterly")
SPEC = FlowSpec(
    name="quarterly",
    title=texts.t("quarterly.title"),
    slots=(
        _slot(
            "quarter",
            "quarterly.quarter",
            parse_quarter,
            dynamic_choices=lambda ctx, _slots: quarter_choices(ctx),
            fmt=quarter_prompt,
            show=show_quarter,
        ),
        _slot(REMARK, "quarterly.remark", parse_remark, optional=True),
    ),
    summary_title="quarterly.summary",
)


def finish(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The quarterly flow was confirmed (提交): store the figures she saw and her remark.

    Submitting stops the quarter's reminders (the scheduler skips submitted reports); a returned
    report is submitted again the same way.
    """
    entry = run.slots["quarter"]
    quarter = str(entry["quarter"])
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id or 0)
    if fx.user.role != "cadre" or unit is None or not UnitPath.parse(unit.path).is_district:
        return [Outgoing(texts.t("quarterly.district_only"))]
    report = repo.report_for(fx.session, unit_id=unit.id or 0, quarter=quarter, now=fx.now)
    name = UnitPath.parse(unit.path).name
    if report.status in ("submitted", "accepted"):
        status = texts.t(f"quarterly.status.{report.status}")
        return [Outgoing(texts.t("quarterly.already", unit=name, quarter=quarter, status=status))]
    remark = run.slots.get("remark")
    repo.submit_report(
        fx.session,
        report=report,
        figures=dict(entry["figures"]),
        remark=mask_pii(str(remark)) if remark else None,
        by=fx.user.id,
        now=fx.now,
    )
    return [Outgoing(texts.t("quarterly.submitted", unit=name, quarter=quarter))]


FLOW = Flow(
    spec=SPEC,
    words=words("quarterly", "entry"),
    finish=finish,
    menu=(40, texts.t("menu.entry.quarterly")),
    menu_for="district",
    start=begin_flow,
    edit_word=edit_word,
)
