"""The slot-filling flow machinery shared by every flow.

A flow is data: a `FlowSpec` lists its `Slot`s (name, label, prompt, choices, parser) in the order
they are asked. `FlowMachine` turns a spec into one `transitions` machine built at start-up:

* one state per slot, plus ``summary``, ``done`` and ``cancelled``;
* ``advance`` goes to the first slot still missing, else to ``summary`` (conditional transitions,
  tried in slot order);
* ``ask_<slot>`` jumps to a slot from anywhere (``返回`` and ``修改 <字段>``);
* ``confirm`` goes from ``summary`` to ``done``; ``cancel`` from anywhere to ``cancelled``.

Per message the engine hands a `FlowRun` (the model: state, slots, misses, history) to the
machine, which fires the event on it (`Event.trigger(model)`, without binding the run to the
machine: see `FlowMachine.fire`). Callbacks only touch the model:
no I/O. What a flow does when confirmed (file a request, a visit) is the flow module's `finish`,
called by the engine inside the message's transaction.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from transitions import EventData, Machine

from bot import texts
from bot.nlp.numbers import chinese_to_int
from bot.nlp.words import alternation, table, words

if TYPE_CHECKING:
    from bot.nlp import NLP, Analysis

TERMINAL_STATES = ("done", "cancelled")
WHY = "why"  # run.meta[WHY][slot]: why a value the message gave was not taken
SKIP_WORDS = words("answers", "skip")
#: the joining words between a field and its new value in `修改 地点 为劲松街道`, longest first
_JOINERS = tuple(sorted(words("answers", "edit_joiners"), key=len, reverse=True))
_EDIT_JOINERS = re.compile(rf"^(?:\s|{alternation(_JOINERS)})+")
MAX_MISSES = 3


class Invalid(Exception):
    """An answer that does not fit the question; `key` names the reason in bot.texts."""

    def __init__(self, key: str, **fmt: object) -> None:
        super().__init__(key)
        self.key = key
        self.fmt = fmt

    def reason(self) -> str:
        """Return the user-facing reason."""
        return texts.t(self.key, **self.fmt)


class Redo(Exception):
    """An answer that sends the flow back to an earlier question (`slot`, its value dropped);
    `key` names the reason in bot.texts, shown before that question."""

    def __init__(self, key: str, slot: str, **fmt: object) -> None:
        super().__init__(key)
        self.key = key
        self.slot = slot
        self.fmt = fmt


class Abort(Exception):
    """An answer that ends the flow (e.g. consent refused); `key` is the goodbye text."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Choice:
    """One numbered option: the stored value, the label shown, and paraphrases accepted."""

    value: str
    label: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserView:
    """What a flow may know about the person it talks to (read-only)."""

    user_id: int
    role: str
    name: str | None
    unit_path: str | None  # "北京市/朝阳区/双井街道" for a cadre
    district: str | None  # the cadre's district (None for residents and city cadres)
    street: str | None  # the cadre's 街道/乡镇 (None above street level)

    @property
    def is_cadre(self) -> bool:
        """True for a bound cadre."""
        return self.role == "cadre"


@dataclass(frozen=True)
class InviteView:
    """An invite code as a parser sees it."""

    code: str
    unit: str
    name: str
    used: bool


@dataclass
class Ctx:
    """Everything a parser may read: the message, the user, the NLP, today's date.

    `invites` is a read-only look-up the engine provides for the onboarding flow; `meta` is the
    run's meta (what the flow's start hook looked up), set by the runner before parsing.
    """

    nlp: NLP
    ref: date
    user: UserView
    text: str
    invites: Callable[[str], InviteView | None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _analysis: Analysis | None = None

    @property
    def analysis(self) -> Analysis:
        """The NLP analysis of this message, computed once."""
        if self._analysis is None:
            self._analysis = self.nlp.analyze(self.text, self.ref)
        return self._analysis


Parser = Callable[[str, "Ctx", Mapping[str, Any]], Any]
Extractor = Callable[["Ctx", Mapping[str, Any]], dict[str, Any]]
Shower = Callable[[Any], str]


def show_plain(value: Any) -> str:
    """Render a slot value for the summary."""
    if value is None:
        return texts.t("value.none")
    if isinstance(value, list | tuple):
        return texts.t("list.sep").join(str(v) for v in value) or texts.t("value.none")
    return str(value)


@dataclass(frozen=True)
class Slot:
    """One question of a flow."""

    name: str
    label: str  # the field name people use in `修改 <字段>` and in the summary
    prompt: str  # text key of the question
    parse: Parser
    choices: tuple[Choice, ...] = ()
    optional: bool = False
    when: Callable[[Mapping[str, Any]], bool] | None = None  # ask only when this holds
    show: Shower = show_plain
    in_summary: bool = True
    aliases: tuple[str, ...] = ()  # other names for `修改 <字段>`
    resets: tuple[str, ...] = ()  # slots that depend on this one, cleared when it changes
    fmt: Callable[[Mapping[str, Any], Ctx], dict[str, str]] | None = None  # prompt placeholders
    # answers offered as buttons after the numbered choices (对), when asked as `prompt`
    quick: tuple[str, ...] = ()
    # choices known at run time (from the message's NLP and the answers so far)
    dynamic_choices: Callable[[Ctx, Mapping[str, Any]], tuple[Choice, ...]] | None = None
    # the question's text key chosen at run time (else `prompt`)
    ask: Callable[[Mapping[str, Any], Ctx], str] | None = None
    # how an answer to an earlier question answers this one too ("就在这里联系我，我同意"):
    # a stricter parser than `parse`, since she was not asked
    passing: Parser | None = None

    def options(self, ctx: Ctx, slots: Mapping[str, Any]) -> tuple[Choice, ...]:
        """The numbered choices of this question."""
        if self.dynamic_choices is not None:
            return self.dynamic_choices(ctx, slots)
        return self.choices

    def prompt_key(self, slots: Mapping[str, Any], ctx: Ctx) -> str:
        """The text key of the question as it is asked now."""
        return self.ask(slots, ctx) if self.ask is not None else self.prompt


def labelled(flow: str, name: str, prompt: str, parse: Parser, **options: Any) -> Slot:
    """A question of `flow` named by texts `slot.<flow>.<name>`, other names words.toml's
    `<flow>.aliases`."""
    aliases = table(f"{flow}.aliases").get(name, ())
    return Slot(name, texts.t(f"slot.{flow}.{name}"), prompt, parse, aliases=aliases, **options)


@dataclass(frozen=True)
class Consent:
    """Confirming the summary is her consent (个人信息保护法: explicit, for this purpose, before
    anything is stored): `note` (a text key) says what she consents to, above the summary's
    actions; an answer that `agrees` confirms, one that `refuses` ends the flow with `refused`
    (a text key) and nothing stored."""

    note: str
    refused: str
    agrees: Callable[[str], bool]
    refuses: Callable[[str], bool]


@dataclass(frozen=True)
class FlowSpec:
    """A flow as data: its name, title, slots and how to pre-fill slots from one message.

    `extract` may give an `Invalid` for a slot the message names unfit (a future date): the
    runner keeps its reason in the run's meta (`WHY`) and says it once with that question.
    """

    name: str
    title: str
    slots: tuple[Slot, ...]
    extract: Extractor | None = None
    summary_title: str = "flow.summary"
    # Which extracted slots an answer to another question may fill (a place or phone said in
    # passing); everything `extract` finds is used only when the flow starts from free text.
    extract_on_answer: tuple[str, ...] = ()
    # A message that tells again what the flow is about ("不对，我其实是想问离婚的事"): given the
    # message, the question it answers and the answers so far (and whether it failed as an
    # answer), the slots it replaces, or None when it is an answer like any other.
    retell: Callable[[Ctx, str, Mapping[str, Any], bool], dict[str, Any] | None] | None = None
    # Confirming is her consent (no question of its own: one turn fewer); None: no consent
    consent: Consent | None = None

    def slot(self, name: str) -> Slot:
        """Return the slot called `name`."""
        for slot in self.slots:
            if slot.name == name:
                return slot
        raise KeyError(name)

    def find_slot(self, word: str) -> Slot | None:
        """Return the slot a user means by `word` in `修改 <字段>`."""
        return self.find_edit(word)[0]

    def find_edit(self, word: str) -> tuple[Slot | None, str]:
        """The slot a user means by `word` in `修改 <字段> [新值]`, and the new value said after
        the field's name ("地点 劲松街道" → the place slot, "劲松街道"; "" when none)."""
        word = word.strip()
        for slot in self.slots:
            if word in (slot.name, slot.label, *slot.aliases):
                return slot, ""
        for slot in self.slots:
            for name in sorted((slot.label, *slot.aliases), key=len, reverse=True):
                at = word.find(name) if name else -1
                if at >= 0:
                    return slot, _edit_value(word[at + len(name) :])
        return None, ""


class FlowRun:
    """The machine's model: one user's progress through one flow (JSON-serialisable)."""

    state: str

    def __init__(
        self,
        spec: FlowSpec,
        *,
        slots: dict[str, Any] | None = None,
        misses: int = 0,
        history: list[str] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.slots: dict[str, Any] = dict(slots or {})
        self.misses = misses
        self.history: list[str] = list(history or [])
        self.meta: dict[str, Any] = dict(meta or {})

    def needs(self, slot: Slot) -> bool:
        """True when the slot applies and has no value yet."""
        if slot.when is not None and not slot.when(self.slots):
            return False
        return slot.name not in self.slots

    def to_json(self) -> dict[str, Any]:
        """The run as stored in the dialogue session."""
        return {
            "slots": self.slots,
            "misses": self.misses,
            "history": self.history,
            "meta": self.meta,
        }


class FlowMachine:
    """One `transitions` machine for a flow spec, shared by all users (runs passed per message)."""

    def __init__(self, spec: FlowSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        # model_override makes transitions log every convenience method it does not bind, on
        # every add_model; those are intended omissions, so keep only its errors.
        logging.getLogger("transitions.core").setLevel(logging.ERROR)
        states = [s.name for s in spec.slots] + ["summary", *TERMINAL_STATES]
        self.machine = Machine(
            model=None,
            states=states,
            initial=spec.slots[0].name,
            auto_transitions=False,
            model_override=True,
            send_event=True,
            after_state_change=_after_state_change,
        )
        asking: list[Any] = [s.name for s in spec.slots] + ["summary"]
        for slot in spec.slots:
            self.machine.add_transition("advance", asking, slot.name, conditions=[_needs(slot)])
        self.machine.add_transition("advance", asking, "summary")
        for slot in spec.slots:
            self.machine.add_transition(f"ask_{slot.name}", asking, slot.name)
        self.machine.add_transition("confirm", "summary", "done")
        self.machine.add_transition("cancel", asking, "cancelled")

    @property
    def states(self) -> list[str]:
        """All state names, in order."""
        return list(self.machine.states)

    def transitions(self) -> list[tuple[str, str, str]]:
        """(source, trigger, dest) of every transition: what the Mermaid diagram must show."""
        edges = []
        for trigger, event in self.machine.events.items():
            for source, items in event.transitions.items():
                for transition in items:
                    edges.append((source, trigger, str(transition.dest)))
        return edges

    def fire(self, run: FlowRun, event: str, state: str) -> None:
        """Put `run` in `state` and fire `event` on it through the machine.

        The machine's `Event.trigger(model)` runs the transitions for that one model (conditions,
        state change, callbacks) without binding it: `add_model` would bind a trigger method per
        event to the run and `remove_model` unbind them again, on every message (a quarter of
        the flow time). The run is never one of `machine.models`, so nothing outlives the call.
        """
        if event not in self.machine.events:
            raise AttributeError(f"{self.spec.name}: no event {event!r}")
        with self._lock:
            run.state = state
            self.machine.events[event].trigger(run)


def _needs(slot: Slot) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        run = cast(FlowRun, event.model)
        return run.needs(slot)

    return condition


def _after_state_change(event: EventData) -> None:
    run = cast(FlowRun, event.model)
    run.misses = 0
    if run.state not in TERMINAL_STATES and (not run.history or run.history[-1] != run.state):
        run.history.append(run.state)


# ----------------------------------------------------------------------------- answer helpers

_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_ORDINAL = re.compile(
    rf"(?:{alternation(words('numerals', 'ordinal_prefixes'))})?\s*"
    rf"(\d{{1,2}}|{alternation(words('numerals', 'ordinals'))})\s*"
    rf"(?:{alternation(words('numerals', 'ordinal_suffixes'))})?"
)
_NUMBER_LIST = re.compile(rf"[\d\s,，、{''.join(map(re.escape, words('numerals', 'joiners')))}+/]+")


def normalize(text: str) -> str:
    """Strip spaces and trailing punctuation, full-width digits to ASCII."""
    text = text.translate(_DIGITS).strip()
    return re.sub(r"[\s。.!！~～,，、;；]+$", "", text).strip()


def number_of(text: str) -> int | None:
    """The option number in an answer like '2', '２', '第二个', '选3', '二'."""
    text = normalize(text)
    match = _ORDINAL.fullmatch(text)
    if not match:
        return None
    return chinese_to_int(match.group(1))


def match_choice(text: str, choices: tuple[Choice, ...]) -> Choice | None:
    """Return the choice the answer names: by number, label, or a paraphrase."""
    number = number_of(text)
    if number is not None:
        return choices[number - 1] if 1 <= number <= len(choices) else None
    answer = normalize(text)
    for choice in choices:
        if answer in (choice.label, choice.value):
            return choice
    found = [c for c in choices if c.label in answer or any(s in answer for s in c.synonyms)]
    return found[0] if len(found) == 1 else None


def match_choices(text: str, choices: tuple[Choice, ...]) -> list[Choice]:
    """Return every choice an answer names ('1 3', '1、3', '健康和帮扶'), in the order given."""
    answer = normalize(text)
    numbers = re.findall(r"\d+", answer)
    if numbers and _NUMBER_LIST.fullmatch(answer):
        picked = [int(n) for n in numbers]
        if all(1 <= n <= len(choices) for n in picked):
            return list(dict.fromkeys(choices[n - 1] for n in picked))
        return []
    hits: list[tuple[int, Choice]] = []
    for choice in choices:
        positions = [answer.find(w) for w in (choice.label, *choice.synonyms) if w in answer]
        if positions:
            hits.append((min(positions), choice))
    return [c for _, c in sorted(hits, key=lambda h: h[0])]


def is_skip(text: str) -> bool:
    """True when the answer declines an optional question."""
    answer = normalize(text)
    return answer in SKIP_WORDS


def choice_lines(choices: tuple[Choice, ...]) -> str:
    """Numbered option lines for a prompt."""
    return "\n".join(f"{i}. {c.label}" for i, c in enumerate(choices, start=1))


@dataclass
class Step:
    """What one answer did: replies to send, whether the flow ended, and how."""

    replies: list[str] = field(default_factory=list)
    choices: tuple[str, ...] = ()
    finished: bool = False
    cancelled: bool = False


def _edit_value(rest: str) -> str:
    """The new value after a field's name, without the joining words (为, 改成, ：)."""
    return _EDIT_JOINERS.sub("", rest.strip())
