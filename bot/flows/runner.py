"""Drive a flow through one user message: answers, re-asks, skips, back, edit, summary.

The conversation calls `FlowRunner` with the stored run and the message; it gets back a `Turn`
with the replies and the run's new state. A flow declares itself as one `Flow` (its spec, entry
words, who may start it, its menu entry, and what happens on start and on finish); the
registry `bot.flows.FLOWS` lists them, and nothing else names a flow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot import texts
from bot.actions import Effects
from bot.config import Settings
from bot.flows.base import (
    MAX_MISSES,
    WHY,
    Abort,
    Ctx,
    FlowMachine,
    FlowRun,
    FlowSpec,
    Invalid,
    Redo,
    Slot,
    UserView,
    choice_lines,
    is_skip,
    normalize,
    number_of,
)
from bot.messages import Outgoing
from bot.nlp.words import alternation, words

CONFIRM_WORDS = words("answers", "confirm")
EDIT_PATTERN = re.compile(rf"^(?:{alternation(words('answers', 'edit'))})\s*(.*)$")


# The summary's buttons: 确认 / 修改 / 取消.
BUTTONS = tuple(texts.t(f"button.{b}") for b in ("confirm", "edit", "cancel"))


@dataclass
class Turn:
    """The result of one message in a flow."""

    run: FlowRun
    state: str
    replies: list[Outgoing] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True when the user confirmed the summary."""
        return self.state == "done"

    @property
    def cancelled(self) -> bool:
        """True when the flow was cancelled."""
        return self.state == "cancelled"


class FlowRunner:
    """Applies one message to a run of one flow."""

    def __init__(self, spec: FlowSpec) -> None:
        self.spec = spec
        self.machine = FlowMachine(spec)

    # ------------------------------------------------------------------ entry points

    def start(self, ctx: Ctx, *, prefill: bool, meta: Mapping[str, Any] | None = None) -> Turn:
        """Begin the flow; when `prefill`, fill what the message already says."""
        run = FlowRun(self.spec, meta=dict(meta or {}))
        ctx.meta = run.meta
        if prefill and self.spec.extract is not None:
            for name, value in self.spec.extract(ctx, run.slots).items():
                if name not in run.slots:
                    _prefill(run, name, value)
        state = self.spec.slots[0].name
        self.machine.fire(run, "advance", state)
        return Turn(run, run.state, [self.prompt(run, run.state, ctx)])

    def answer(self, run: FlowRun, state: str, ctx: Ctx) -> Turn:
        """Apply a free-text answer in `state`."""
        ctx.meta = run.meta
        text = normalize(ctx.text)
        edit = EDIT_PATTERN.match(text)
        if edit:
            return self.edit(run, state, ctx, edit.group(1))
        retold = self._retell(run, state, ctx, failed=False)
        if retold is not None:
            return retold
        if state == "summary":
            return self._answer_summary(run, ctx, text)
        slot = self.spec.slot(state)
        if slot.optional and is_skip(text):
            return self._set(run, state, slot, None, ctx)
        try:
            value = slot.parse(ctx.text, ctx, run.slots)
        except Invalid as problem:
            retold = self._retell(run, state, ctx, failed=True)
            if retold is not None:
                return retold
            self._absorb(run, state, ctx)  # a place or phone it named is kept all the same
            return self.miss(run, state, ctx, problem.reason())
        except Redo as redo:
            run.slots.pop(redo.slot, None)
            run.meta.setdefault(WHY, {})[redo.slot] = texts.t(redo.key, **redo.fmt)
            self.machine.fire(run, f"ask_{redo.slot}", state)
            return Turn(run, run.state, [self.prompt(run, run.state, ctx)])
        except Abort as stop:
            self.machine.fire(run, "cancel", state)
            return Turn(run, run.state, [Outgoing(texts.t(stop.key))])
        return self._set(run, state, slot, value, ctx)

    def back(self, run: FlowRun, state: str, ctx: Ctx) -> Turn:
        """Go back to the previous question."""
        history = [s for s in run.history if s != state]
        if not history:
            reply = Outgoing(texts.t("flow.first_step"))
            return Turn(run, state, [reply, self.prompt(run, state, ctx)])
        previous = history[-1]
        run.history = history
        self.machine.fire(run, f"ask_{previous}", state)
        return Turn(run, run.state, [self.prompt(run, run.state, ctx)])

    def edit(self, run: FlowRun, state: str, ctx: Ctx, word: str) -> Turn:
        """Jump to the slot named in `修改 <字段>`; a new value said with it ("修改 地点
        劲松街道") answers that question at once, as if said there (a value that does not fit
        gets its reason and the question)."""
        slot, value = self.spec.find_edit(word) if word else (None, "")
        if slot is None or (slot.when is not None and not slot.when(run.slots)):
            fields = texts.t("list.sep").join(s.label for s in self._applicable(run))
            reply = Outgoing(texts.t("flow.edit_which", fields=fields))
            return Turn(run, state, [reply])
        self.machine.fire(run, f"ask_{slot.name}", state)
        if value:
            return self.answer(run, slot.name, replace(ctx, text=value, _analysis=None))
        return Turn(run, run.state, [self.prompt(run, run.state, ctx)])

    def help(self, run: FlowRun, state: str, ctx: Ctx) -> Turn:
        """Explain the current question, then ask it again."""
        key = "flow.summary_help" if state == "summary" else self._key(run, state, ctx) + ".help"
        fmt = self._fmt(run, state, ctx)
        explanation = texts.t(key, **fmt) if texts.has(key) else texts.t("flow.generic_help")
        return Turn(run, state, [Outgoing(explanation), self.prompt(run, state, ctx)])

    def cancel(self, run: FlowRun, state: str) -> Turn:
        """Drop the flow."""
        self.machine.fire(run, "cancel", state)
        return Turn(run, run.state, [Outgoing(texts.t("flow.cancelled", title=self.spec.title))])

    def miss(self, run: FlowRun, state: str, ctx: Ctx, reason: str) -> Turn:
        """A wrong answer: say why and ask again, more explicitly each time."""
        run.misses += 1
        lines = [reason]
        if run.misses >= 2 and state != "summary":
            key = self._key(run, state, ctx) + ".help"
            if texts.has(key):
                lines.append(texts.t(key, **self._fmt(run, state, ctx)))
        if run.misses >= MAX_MISSES:
            optional = state != "summary" and self.spec.slot(state).optional
            lines.append(texts.t("flow.offer_skip" if optional else "flow.offer_human"))
        return Turn(run, state, [Outgoing("\n".join(lines)), self.prompt(run, state, ctx)])

    # ------------------------------------------------------------------ prompts

    def prompt(self, run: FlowRun, state: str, ctx: Ctx) -> Outgoing:
        """The question for `state` (or the summary), with its numbered choices."""
        if state == "summary":
            return self.summary(run)
        slot = self.spec.slot(state)
        key = self._key(run, state, ctx)
        question = texts.t(key, **self._fmt(run, state, ctx))
        why = (run.meta.get(WHY) or {}).pop(state, None)  # said once, with the question
        if why:
            question = f"{why}\n{question}"
        options = slot.options(ctx, run.slots)
        if options:
            question = f"{question}\n{choice_lines(options)}"
        if slot.optional:
            question = f"{question}\n{texts.t('flow.optional_hint')}"
        quick = slot.quick if key == slot.prompt else ()  # 对 fits only the question as declared
        return Outgoing(question, (*(c.label for c in options), *quick))

    def summary(self, run: FlowRun) -> Outgoing:
        """The summary of every answer, with 确认 / 修改 <字段> / 取消."""
        lines = [texts.t(self.spec.summary_title, title=self.spec.title)]
        for slot in self._applicable(run):
            if slot.in_summary:
                value = slot.show(run.slots.get(slot.name))
                lines.append(texts.t("flow.summary_line", label=slot.label, value=value))
        if self.spec.consent is not None:
            lines.append(texts.t(self.spec.consent.note))
        lines.append(texts.t("flow.summary_actions"))
        return Outgoing("\n".join(lines), BUTTONS)

    # ------------------------------------------------------------------ internals

    def _answer_summary(self, run: FlowRun, ctx: Ctx, text: str) -> Turn:
        consent = self.spec.consent
        if consent is not None and consent.refuses(ctx.text):
            self.machine.fire(run, "cancel", "summary")
            return Turn(run, run.state, [Outgoing(texts.t(consent.refused))])
        if text in CONFIRM_WORDS or (consent is not None and consent.agrees(ctx.text)):
            self.machine.fire(run, "confirm", "summary")
            return Turn(run, run.state)
        return self.miss(run, "summary", ctx, texts.t("flow.summary_unclear"))

    def _set(self, run: FlowRun, state: str, slot: Slot, value: Any, ctx: Ctx) -> Turn:
        self._put(run, slot, value)
        self._absorb(run, slot.name, ctx)
        self._in_passing(run, slot, ctx)
        self.machine.fire(run, "advance", state)
        return Turn(run, run.state, [self.prompt(run, run.state, ctx)])

    def _put(self, run: FlowRun, slot: Slot, value: Any) -> None:
        """Set one slot; a changed value clears the slots that depend on it."""
        changed = run.slots.get(slot.name, object()) != value
        run.slots[slot.name] = value
        (run.meta.get(WHY) or {}).pop(slot.name, None)
        if changed:
            for name in slot.resets:
                run.slots.pop(name, None)

    def _absorb(self, run: FlowRun, answering: str, ctx: Ctx) -> None:
        """Fill the still-empty slots an answer names in passing (`extract_on_answer`)."""
        if self.spec.extract is None:
            return
        for name, extra in self.spec.extract(ctx, run.slots).items():
            allowed = name in self.spec.extract_on_answer
            if allowed and name != answering and name not in run.slots:
                _prefill(run, name, extra)

    def _in_passing(self, run: FlowRun, answered: Slot, ctx: Ctx) -> None:
        """Let the answer fill the questions right after it that it also answers (`passing`
        slots, in order, until one it does not answer); a bare number answers only the question
        asked, and a refusal said in passing is asked again rather than acted on."""
        if number_of(ctx.text) is not None:
            return
        later = self.spec.slots[self.spec.slots.index(answered) + 1 :]
        for slot in later:
            if not run.needs(slot):
                continue
            if slot.passing is None:
                return
            try:
                value = slot.passing(ctx.text, ctx, run.slots)
            except (Invalid, Redo, Abort):
                return
            self._put(run, slot, value)

    def _retell(self, run: FlowRun, state: str, ctx: Ctx, *, failed: bool) -> Turn | None:
        """A message that tells again what the flow is about replaces those answers (and what
        depends on them) and goes on from there."""
        if self.spec.retell is None:
            return None
        replaced = self.spec.retell(ctx, state, run.slots, failed)
        if replaced is None:
            return None
        for name, value in replaced.items():
            self._put(run, self.spec.slot(name), value)
        self._absorb(run, next(iter(replaced)), ctx)
        self.machine.fire(run, "advance", state)
        return Turn(
            run, run.state, [Outgoing(texts.t("flow.retold")), self.prompt(run, run.state, ctx)]
        )

    def _key(self, run: FlowRun, state: str, ctx: Ctx) -> str:
        return self.spec.slot(state).prompt_key(run.slots, ctx)

    def _fmt(self, run: FlowRun, state: str, ctx: Ctx) -> dict[str, str]:
        fmt = {**{k: v for k, v in run.meta.items() if isinstance(v, str)}, **self._shown(run)}
        if state != "summary":
            slot = self.spec.slot(state)
            if slot.fmt is not None:
                fmt.update(slot.fmt(run.slots, ctx))
        return fmt

    def _applicable(self, run: FlowRun) -> list[Slot]:
        return [s for s in self.spec.slots if s.when is None or s.when(run.slots)]

    def _shown(self, run: FlowRun) -> dict[str, str]:
        return {s.name: s.show(run.slots[s.name]) for s in self.spec.slots if s.name in run.slots}


def _prefill(run: FlowRun, name: str, value: Any) -> None:
    """Fill a slot from what a message said; an unfit value (`Invalid`) leaves the slot to be
    asked and keeps the reason, said once with the question."""
    if isinstance(value, Invalid):
        run.meta.setdefault(WHY, {})[name] = value.reason()
    else:
        run.slots[name] = value


# Who may start a flow (`who`), and who sees its menu entry (`menu_for`; district: a cadre of a
# district-level unit).
Audience = Literal["any", "resident", "cadre"]
MenuAudience = Literal["any", "cadre", "district"]


@dataclass(frozen=True)
class Start:
    """What a flow's start hook gets: its runner, the message, its effects and the settings."""

    runner: FlowRunner
    ctx: Ctx
    fx: Effects
    settings: Settings
    prefill: bool
    meta: Mapping[str, Any] | None = None


def plain_start(start: Start) -> Turn:
    """Begin the flow at its first question (filling what the message says when `prefill`)."""
    return start.runner.start(start.ctx, prefill=start.prefill, meta=start.meta)


@dataclass(frozen=True)
class Flow:
    """One flow, self-contained: what starts it, who may, and what it does on start and finish.

    `words`: typed alone, they start it (its command is `spec.name`); `pattern`: a longer text
    that starts it too (`绑定 ABCD2345`). `who` may start it; anyone else gets `refusal` (a text
    key, `{unit}`: her unit). `menu`: (rank, label) in the idle menu, shown to `menu_for`.
    `start` returns the first turn, or replies when it cannot begin (the flow stays as it was);
    `finish` files a confirmed run. `route`: at idle, free text this flow takes (the meta to
    start it with, prefilled) or None; `edit_word`: a word that edits a slot in a state.
    """

    spec: FlowSpec
    words: tuple[str, ...]
    finish: Callable[[Effects, FlowRun], list[Outgoing]]
    who: Audience = "any"
    refusal: str = ""
    pattern: re.Pattern[str] | None = None
    menu: tuple[int, str] | None = None
    menu_for: MenuAudience = "any"
    start: Callable[[Start], Turn | list[Outgoing]] = plain_start
    route: Callable[[Ctx], dict[str, Any] | None] | None = None
    edit_word: Callable[[str, str], str | None] | None = None

    @property
    def name(self) -> str:
        """The flow's name (stored in the dialogue) and its command's."""
        return self.spec.name

    def may_start(self, user: UserView) -> bool:
        """True when `user` is one of those the flow is for."""
        if self.who == "cadre":
            return user.is_cadre
        if self.who == "resident":
            return not user.is_cadre
        return True
