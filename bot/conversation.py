"""One user's message inside the engine: safety, commands, the active flow, routing.

A `Conversation` is built per message by the engine with the user's stored dialogue; it reads
it as a `bot.domain.dialogue.DialogueState`, decides the replies, and moves the state through
the dialogue machine (the modes and their precedence are declared there). The engine stores
`conversation.dialogue` afterwards. Flows are read from the registry `bot.flows.FLOWS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import actions, texts
from bot.commands import Command, menu_entry, menu_labels, parse_command
from bot.config import Settings
from bot.domain import deadlines, handoff, safety, urgent
from bot.domain.dialogue import (
    AWAITING_DELETE,
    AWAITING_RESUME,
    CRISIS,
    HANDED_OVER,
    RATING_ASKED_IN,
    RATING_HEARD_IN,
    SAFETY_CHECK,
    DialogueState,
)
from bot.flows import BY_NAME, FLOWS, contacts, progress
from bot.flows.base import Ctx, FlowRun, InviteView, UserView
from bot.flows.runner import Flow, FlowRunner, Start, Turn
from bot.messages import Incoming, Outgoing
from bot.nlp import NLP, Analysis, mask_pii
from bot.nlp.intents import Intent, intent_of
from bot.nlp.words import words
from bot.paging import next_page
from storage import repo
from storage.models import HelpRequest, User
from storage.orgtree import UnitPath

# While handed over, these commands end the hand-over (and act); anything else goes to a person.
RELEASING = ("menu", "cancel", "progress", "delete")
RESUME_BUTTONS = (texts.t("button.resume"), texts.t("button.cancel"))
DELETE_BUTTONS = (texts.t("button.delete_confirm"), texts.t("button.delete_keep"))
DELETE_CONFIRM = words("answers", "delete_confirm")
SAFETY_BUTTONS = (texts.t("button.safe"), texts.t("button.unsafe"))


@dataclass(frozen=True)
class Setup:
    """What a conversation takes from the engine: settings, NLP, time zone, the flows' runners."""

    settings: Settings
    nlp: NLP
    tz: ZoneInfo
    runners: Mapping[str, FlowRunner]
    limits: deadlines.Limits  # 限时办结 (FUQING_RESOLVE_DAYS), parsed once by the engine
    office: handoff.OfficeHours  # 转人工 (FUQING_OFFICE_HOURS), parsed once by the engine

    @property
    def resume_after(self) -> timedelta:
        """Idle this long in a flow: offer to resume it."""
        return timedelta(minutes=self.settings.resume_after_minutes)

    @property
    def drop_after(self) -> timedelta:
        """Idle this long in a flow: drop it."""
        return timedelta(days=self.settings.drop_after_days)


class Conversation:
    """The handling of one message; `dialogue` holds the dialogue state to save."""

    def __init__(
        self,
        *,
        setup: Setup,
        session: Session,
        user: User,
        dialogue: repo.Dialogue,
        message: Incoming,
        ref: date,
        max_bytes: int | None = None,
    ) -> None:
        self.setup = setup
        self.max_bytes = max_bytes
        self.session = session
        self.user = user
        self.message = message
        self.text = message.text.strip()
        self.dialogue = DialogueState.from_stored(dialogue.flow, dialogue.state, dialogue.data)
        self.idle = message.at - repo.as_utc(dialogue.updated_at)
        self.ctx = Ctx(
            nlp=setup.nlp, ref=ref, user=self._user_view(), text=self.text, invites=self._invite
        )
        self.fx = actions.Effects(
            session=session,
            user=user,
            now=message.at,
            ref=ref,
            nlp=setup.nlp,
            tz=setup.tz,
            limits=setup.limits,
        )

    # ------------------------------------------------------------------ the pipeline

    def respond(self, *, is_new: bool) -> list[Outgoing]:
        """Return the replies to this message (a crisis: the urgent case and nothing else; a
        greeting for a newcomer)."""
        if self.message.kind == "event":
            return self._event(is_new=is_new)
        if self.message.kind in ("image", "location", "link"):
            return self._with_prompt([Outgoing(texts.t("non_text"))])
        if not self.text:
            key = "voice_no_text" if self.message.kind == "voice" else "empty"
            return self._with_prompt([Outgoing(texts.t(key))])
        if self.ctx.analysis.crisis:
            return self._crisis()
        if self.dialogue.mode is SAFETY_CHECK:
            return self._safety_answer()
        if self.dialogue.mode is CRISIS:
            added = self._in_crisis()
            if added is not None:
                return added
        if self._asks_safety():
            return self._ask_safety(is_new=is_new)
        if self._remembered():
            self.dialogue.remember(mask_pii(self.text))
        first: list[Outgoing] = []
        if is_new:
            first.append(Outgoing(texts.t("greeting") + "\n" + texts.t("privacy")))
        return first + self._dispatch()

    # ------------------------------------------------------------------ a safety check

    def _asks_safety(self) -> bool:
        """Her message has danger signals (the NLP's `safety_check`) and is neither a command
        (she is working the bot), nor written to a person (handed over), nor a cadre's (cadres
        write about others: visit notes, resolutions; their own danger is a crisis), nor the
        rating she owes (`基本满意 还可以更快些` answers 满意吗; a crisis in it still counts)."""
        return (
            self.ctx.analysis.safety_check
            and self.dialogue.mode is not HANDED_OVER
            and not self.ctx.user.is_cadre
            and parse_command(self.text) is None
            and not self._rates()
        )

    def _remembered(self) -> bool:
        """Her words are kept for a hand-off's transcript: a resident's, not a command, not
        written to a person already (those go into the thread)."""
        return (
            not self.ctx.user.is_cadre
            and self.dialogue.mode is not HANDED_OVER
            and parse_command(self.text) is None
        )

    def _rates(self) -> bool:
        """Her message is the rating she owes, where a rating is heard."""
        state = self.dialogue
        if not state.rating or state.mode not in RATING_HEARD_IN:
            return False
        return progress.parse_rating(self.text, numbers=state.flow is None) is not None

    def _ask_safety(self, *, is_new: bool) -> list[Outgoing]:
        """Danger signals without enough to be sure: 您现在安全吗？ first and alone; the message
        is remembered (`bot.domain.safety.SafetyCheck`) until she answers."""
        self.dialogue.take_pages()
        check = safety.SafetyCheck(
            analysis=self.ctx.analysis,
            channel=self.message.channel,
            address=self.message.user,
            asked_at=self.message.at,
            first=is_new,
            idle=self.idle,
        )
        self.dialogue.ask_safety(check.to_json())
        return [Outgoing(texts.t("safety.ask"), SAFETY_BUTTONS, urgent=True)]

    def _safety_answer(self) -> list[Outgoing]:
        """Her answer: a clear 安全 goes on with the remembered message (a request it starts is
        marked 需关注); anything else opens her urgent case with its words and her answer."""
        state = self.dialogue
        if not safety.is_clearly_safe(self.text):
            check = safety.SafetyCheck.from_json(state.take_check())
            return self._open_case(safety.with_answer(check.analysis, self.ctx.analysis))
        check = safety.SafetyCheck.from_json(state.safe())
        self.text, self.idle = check.analysis.text, check.idle  # as if it came just now
        self.ctx = dataclasses.replace(self.ctx, text=self.text, _analysis=check.analysis)
        first = [Outgoing(texts.t("greeting") + "\n" + texts.t("privacy"))] if check.first else []
        replies = first + self._dispatch()
        if state.flow is not None and state.run is not None:
            state.run = {**state.run, "meta": {**(state.run.get("meta") or {}), "attention": True}}
        return replies

    # ------------------------------------------------------------------ a crisis

    def _crisis(self) -> list[Outgoing]:
        """A crisis message: the hotlines and whom her urgent case reached, in this message's
        transaction (a flow she was in is paused); one optional question for a phone. In a
        crisis already, the message is added to her open case."""
        analysis = self.ctx.analysis
        hotlines = texts.t("crisis.self" if analysis.self_harm else "crisis")
        state = self.dialogue
        state.take_pages()
        user_id = self.user.id or 0
        case = (
            urgent.open_case_of(self.session, code=state.case, user_id=user_id)
            if state.case
            else None
        )
        if state.mode is CRISIS and case is not None:
            self._add_to_case(case)
            return [Outgoing(hotlines, urgent=True), Outgoing(texts.t("crisis.added"))]
        if state.mode is SAFETY_CHECK:  # the remembered message goes into the case too
            check = safety.SafetyCheck.from_json(state.take_check())
            analysis = safety.with_answer(check.analysis, analysis)
        return self._open_case(analysis)

    def _open_case(self, analysis: Analysis) -> list[Outgoing]:
        """The crisis path: her urgent case opened now with `analysis`'s words, the crisis mode,
        the hotlines and whom it reached, then the optional phone question."""
        opened = urgent.open_case(
            self.session,
            user_id=self.user.id or 0,
            analysis=analysis,
            channel=self.message.channel,
            address=self.message.user,
            now=self.message.at,
            limits=self.setup.limits,
        )
        self.dialogue.enter_crisis(opened.request.code)
        replies = [Outgoing(safety.crisis_reply(opened, self_harm=analysis.self_harm), urgent=True)]
        if not opened.request.phone:
            replies.append(Outgoing(texts.t("crisis.ask_phone")))
        return replies

    def _in_crisis(self) -> list[Outgoing] | None:
        """After a crisis reply: a phone or anything else she writes goes to her urgent case;
        a command (but 更多), a closed case or a long pause ends the crisis mode (None: the
        message then goes on as any other)."""
        state = self.dialogue
        command = parse_command(self.text)
        case = urgent.open_case_of(self.session, code=state.case or "", user_id=self.user.id or 0)
        ends = command is not None and command.name != "more"
        if case is None or ends or self.idle > self.setup.resume_after:
            state.end_crisis()
            return None
        if command is not None:  # 更多: the crisis reply's next page
            return None
        return [self._add_to_case(case)]

    def _add_to_case(self, case: HelpRequest) -> Outgoing:
        """Her phone, or her words, on her open urgent case."""
        phones = self.ctx.analysis.phones
        if phones and case.phone != phones[0]:
            urgent.add_phone(self.session, request=case, phone=phones[0], now=self.message.at)
            return Outgoing(texts.t("crisis.phone_saved"))
        urgent.add_words(self.session, request=case, text=self.text, now=self.message.at)
        return Outgoing(texts.t("crisis.added"))

    def _dispatch(self) -> list[Outgoing]:
        """A flow left too long, a rating she owes (heard, asked or waiting: the dialogue's
        RATING_HEARD_IN / RATING_ASKED_IN), then the message itself."""
        state = self.dialogue
        notes: list[Outgoing] = []
        if state.flow is not None and self.idle > self.setup.drop_after:
            state.expire()
        expired = state.take_expired()  # also set by the scheduler's purge (`forget_abandoned`)
        if expired:
            notes.append(Outgoing(texts.t("flow.expired", title=self._title(expired))))
        owed = (state.rating, state.rating_asked) if state.rating else None
        # A pending 删除 comes first; the rating waits (a crisis never gets here).
        quiet = state.mode not in RATING_HEARD_IN
        if owed and not quiet:
            rated = progress.parse_rating(self.text, numbers=state.flow is None)
            thanks = progress.rate(self.fx, owed[0], *rated) if rated is not None else None
            if thanks is not None:
                state.rated()
                return notes + self._with_prompt(thanks)
        replies = self._dispatch_message(notes)
        if owed and self.user.deleted_at is None:
            code, asked = owed
            if quiet or state.mode not in RATING_ASKED_IN:
                state.owe(code, asked=asked)  # ask later, not now
            elif not asked:
                state.owe(code, asked=True)
                replies.append(progress.rating_reminder(code))
            else:
                state.drop_rating()
        return replies

    def _dispatch_message(self, notes: list[Outgoing]) -> list[Outgoing]:
        """Resume offer, paging, pending confirmations, hand-over, commands, flow or routing."""
        state = self.dialogue
        idle = self.idle > self.setup.resume_after
        if state.flow is not None and idle:
            state.pause()
            return [Outgoing(texts.t("flow.resume", title=self._title()), RESUME_BUTTONS)]
        command = parse_command(self.text)
        pages = state.take_pages()
        if command is not None and command.name == "more":
            if not pages:
                return [Outgoing(texts.t("more.none"))]
            page, rest = next_page(pages, self.max_bytes)
            if rest:
                state.pages = rest
            return [page]
        if state.mode is AWAITING_DELETE:
            if self.text.replace(" ", "") in DELETE_CONFIRM:
                state.confirm_delete()
                return actions.erase_resident(self.fx)
            state.keep()
            notes.append(Outgoing(texts.t("delete.kept")))
        elif state.mode is AWAITING_RESUME:
            state.resume()
            if command is not None and command.name == "resume":
                return [self._prompt()]
        if state.mode is HANDED_OVER:
            if command is not None and command.name == "help":
                return [*notes, *actions.handoff_help(self.fx)]
            if command is None or command.name not in RELEASING:
                actions.forward_to_human(
                    self.fx,
                    slots=self._slots(),
                    text=self.text,
                    channel=self.message.channel,
                    office=self.setup.office,
                )
                return [*notes, Outgoing(texts.t("human.forwarded"))]
            actions.end_hand_over(self.fx)
            state.release()
        if command is not None:
            return notes + self._command(command)
        intent = intent_of(self.text)
        if intent is not None:
            return notes + self._plain(intent)
        if state.flow is not None:
            return notes + self._answer()
        return notes + self._route()

    def _plain(self, intent: Intent) -> list[Outgoing]:
        """A plain-language intent, at any time: progress lists her requests (the command's
        reply), who-to-call gives the hotlines and the federation that has her request; a
        greeting, "我想问个事" or emoji alone get one guiding line (in a flow, its question
        is that line; emoji get a gentle word before it); at idle, the menu's entries are the
        buttons."""
        if intent == "progress":
            return self._command(Command("progress"))
        if intent == "call":
            return self._with_prompt(progress.who_to_call(self.fx))
        line = texts.t(f"intent.{intent}")
        if self.dialogue.flow is not None:  # its question is the guiding one
            return self._with_prompt([Outgoing(line)] if intent == "emoji" else [])
        cadre = self.ctx.user.is_cadre
        return [Outgoing(line, menu_labels(cadre=cadre, district=_is_district(self.ctx.user)))]

    def _event(self, *, is_new: bool) -> list[Outgoing]:
        """Channel events: a follow gets the greeting, privacy notice and menu; an unfollow
        marks the identity inactive (pushes stop) and gets no reply."""
        if self.text == "subscribe":
            return [Outgoing(texts.t("greeting") + "\n" + texts.t("privacy")), self._menu()]
        if self.text == "unsubscribe":
            repo.deactivate_identity(
                self.session, channel=self.message.channel, external_id=self.message.user
            )
        return []

    # ------------------------------------------------------------------ commands

    def _command(self, command: Command) -> list[Outgoing]:
        name = command.name
        runner = self._runner()
        if name in ("cancel", "back", "help", "resume") and runner is not None:
            run, step = self._run(runner)
            if name == "cancel":
                return self._apply(runner.cancel(run, step))
            if name == "back":
                return self._apply(runner.back(run, step, self.ctx))
            if name == "help":
                return self._apply(runner.help(run, step, self.ctx))
            return [runner.prompt(run, step, self.ctx)]
        if name == "greet":
            return [self._prompt()]
        if name == "help":
            return [Outgoing(texts.t("help.idle")), self._menu()]
        if name in ("cancel", "back", "resume"):
            return [Outgoing(texts.t("flow.not_in_flow")), self._menu()]
        if name == "menu":
            replies = self._apply(runner.cancel(*self._run(runner))) if runner else []
            return [*replies, self._menu()]
        if name == "human":
            replies = actions.hand_over(
                self.fx,
                slots=self._slots(),
                channel=self.message.channel,
                office=self.setup.office,
                said=self.dialogue.take_said(),
            )
            self.dialogue.hand_over()
            return replies
        if name == "progress":
            return self._with_prompt(progress.list_requests(self.fx))
        if name in ("reply", "end_thread"):
            return actions.answer_thread(self.fx, move=name, code=command.code, note=command.note)
        if name in ("take", "resolve", "withdraw", "detail"):
            return self._with_prompt(progress.act(self.fx, name, command.code, command.note))
        if name == "contacts":
            return self._with_prompt(contacts.list_points(self.fx))
        if name == "contact_point":
            return self._with_prompt(contacts.add_point(self.fx, command.note))
        if name == "pair":
            return self._with_prompt(contacts.add_pair(self.fx, command.note))
        if name == "delete":
            self.dialogue.ask_delete()
            return [Outgoing(texts.t("delete.confirm"), DELETE_BUTTONS)]
        return self._start(BY_NAME[name], prefill=False)

    def _start(
        self, flow: Flow, *, prefill: bool, meta: dict[str, Any] | None = None
    ) -> list[Outgoing]:
        """Start `flow` if she may (its start hook may decline: the flow she is in stays)."""
        if not flow.may_start(self.ctx.user):
            unit = UnitPath.parse(self.ctx.user.unit_path or "").below_city
            return [Outgoing(texts.t(flow.refusal, unit=unit))]
        begun = flow.start(
            Start(
                runner=self.setup.runners[flow.name],
                ctx=self.ctx,
                fx=self.fx,
                settings=self.setup.settings,
                prefill=prefill,
                meta=meta,
            )
        )
        if isinstance(begun, list):
            return self._with_prompt(begun)
        self.dialogue.start_flow(flow.name, begun.state, begun.run.to_json())
        return self._apply(begun)

    # ------------------------------------------------------------------ flows

    def _answer(self) -> list[Outgoing]:
        runner = self._runner()
        assert runner is not None
        run, step = self._run(runner)
        edit_word = BY_NAME[runner.spec.name].edit_word
        field = edit_word(self.text, step) if edit_word is not None else None
        if field is not None:
            return self._apply(runner.edit(run, step, self.ctx, field))
        return self._apply(runner.answer(run, step, self.ctx))

    def _apply(self, turn: Turn) -> list[Outgoing]:
        """Keep the run's new state; file it when confirmed; forget it when ended."""
        replies = list(turn.replies)
        flow = self.dialogue.flow
        assert flow is not None
        if turn.done:
            replies += BY_NAME[flow].finish(self.fx, turn.run)
        if turn.done or turn.cancelled:
            self.dialogue.finish_flow()
        else:
            self.dialogue.advance(turn.state, turn.run.to_json())
        return replies

    def _route(self) -> list[Outgoing]:
        """Free text at idle: a menu number, else the first flow (in `FLOWS` order) that takes
        it (a cadre's visit note, a need), else the menu."""
        entry = menu_entry(
            self.text, cadre=self.ctx.user.is_cadre, district=_is_district(self.ctx.user)
        )
        if entry is not None:
            return self._command(Command(entry))
        for flow in FLOWS:
            meta = flow.route(self.ctx) if flow.route is not None else None
            if meta is not None:
                return self._start(flow, prefill=True, meta=meta or None)
        return [Outgoing(texts.t("unknown")), self._menu()]

    # ------------------------------------------------------------------ helpers

    def _runner(self) -> FlowRunner | None:
        flow = self.dialogue.flow
        return self.setup.runners.get(flow) if flow else None

    def _run(self, runner: FlowRunner) -> tuple[FlowRun, str]:
        stored = dict(self.dialogue.run or {})
        run = FlowRun(
            runner.spec,
            slots=stored.get("slots"),
            misses=stored.get("misses", 0),
            history=stored.get("history"),
            meta=stored.get("meta"),
        )
        return run, self.dialogue.step or runner.spec.slots[0].name

    def _prompt(self) -> Outgoing:
        runner = self._runner()
        if runner is None:
            return self._menu()
        run, step = self._run(runner)
        return runner.prompt(run, step, self.ctx)

    def _with_prompt(self, replies: list[Outgoing]) -> list[Outgoing]:
        """Replies, then the pending question again when a flow is active."""
        return [*replies, self._prompt()] if self.dialogue.flow is not None else replies

    def _slots(self) -> dict[str, object]:
        return dict((self.dialogue.run or {}).get("slots") or {})

    def _title(self, flow: str | None = None) -> str:
        runner = self.setup.runners.get(flow) if flow else self._runner()
        return runner.spec.title if runner else ""

    def _menu(self) -> Outgoing:
        cadre = self.ctx.user.is_cadre
        labels = menu_labels(cadre=cadre, district=_is_district(self.ctx.user))
        head = (
            texts.t("menu.cadre", name=self.user.name or "", unit=_unit_name(self.ctx.user))
            if cadre
            else texts.t("menu")
        )
        lines = [head, *(f"{i}. {label}" for i, label in enumerate(labels, start=1))]
        return Outgoing("\n".join(lines), labels)

    def _user_view(self) -> UserView:
        path = None
        district = street = None
        if self.user.role == "cadre" and self.user.unit_id:
            unit = repo.get_unit(self.session, unit_id=self.user.unit_id)
            if unit is not None:
                path = unit.path
                parsed = UnitPath.parse(path)
                district, street = parsed.district, parsed.street
        return UserView(
            user_id=self.user.id or 0,
            role=self.user.role,
            name=self.user.name,
            unit_path=path,
            district=district,
            street=street,
        )

    def _invite(self, code: str) -> InviteView | None:
        invite = repo.find_invite(self.session, code=code)
        if invite is None:
            return None
        unit = repo.get_unit(self.session, unit_id=invite.unit_id)
        label = UnitPath.parse(unit.path).name if unit else ""
        return InviteView(
            code=invite.code, unit=label, name=invite.name, used=invite.used_at is not None
        )


def _is_district(user: UserView) -> bool:
    """A cadre of a district-level unit (she submits the quarterly summary)."""
    return user.is_cadre and user.district is not None and user.street is None


def _unit_name(user: UserView) -> str:
    return UnitPath.parse(user.unit_path or "").name
