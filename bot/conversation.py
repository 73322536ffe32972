"""One user's message inside the engine: safety, commands, the active flow, routing.

A `Conversation` is built per message by the engine with the user's dialogue session; it
decides the replies and leaves the new dialogue state in `flow`, `state` and `data` for the
engine to persist.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot import actions, texts
from bot.commands import Command, menu_entry, menu_labels, parse_command
from bot.flows import contacts, progress, quarterly
from bot.flows.base import Ctx, FlowRun, InviteView, UserView
from bot.flows.runner import FlowRunner, Turn
from bot.flows.visit_report import NOTE_CHARS
from bot.messages import Incoming, Outgoing
from bot.paging import next_page
from storage import repo
from storage.models import User
from storage.orgtree import UnitPath

if TYPE_CHECKING:
    from bot.engine import Engine


# The dialogue state of a flow dropped unattended: the flow's name, for the note she gets next.
EXPIRED = "expired"
# What may hold her words: the flow's slots (`run`) and replies waiting behind 更多 (`more`).
WORDS = ("run", "more")


def forget_abandoned(flow: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """The state left of a dialogue idle longer than FUQING_DROP_AFTER_DAYS (the scheduler's
    purge): no flow, no slots, no paged replies; the flags and request codes stay (a rating she
    owes, a hand-over), and a dropped flow's name, so her next message hears it was cancelled as
    it would had she written before the purge."""
    kept = {k: v for k, v in data.items() if k not in WORDS}
    if flow is not None:
        kept[EXPIRED] = flow
        if kept.get("pending") == "resume":  # the offer to resume the flow goes with it
            del kept["pending"]
    return kept


class Conversation:
    """The handling of one message; `flow`/`state`/`data` hold the dialogue state to save."""

    def __init__(
        self,
        *,
        engine: Engine,
        session: Session,
        user: User,
        dialogue: repo.Dialogue,
        message: Incoming,
        ref: date,
        max_bytes: int | None = None,
    ) -> None:
        self.engine = engine
        self.max_bytes = max_bytes
        self.session = session
        self.user = user
        self.message = message
        self.text = message.text.strip()
        self.flow: str | None = dialogue.flow
        self.state: str | None = dialogue.state
        self.data: dict[str, Any] = dict(dialogue.data or {})
        self.idle = message.at - repo.as_utc(dialogue.updated_at)
        self.ctx = Ctx(
            nlp=engine.nlp, ref=ref, user=self._user_view(), text=self.text, invites=self._invite
        )
        self.fx = actions.Effects(
            session=session, user=user, now=message.at, ref=ref, nlp=engine.nlp, tz=engine.tz
        )

    # ------------------------------------------------------------------ the pipeline

    def respond(self, *, is_new: bool) -> list[Outgoing]:
        """Return the replies to this message (crisis first, greeting for a newcomer)."""
        first: list[Outgoing] = []
        if self.message.kind == "event":
            return self._event(is_new=is_new)
        if self.message.kind in ("image", "location", "link"):
            return self._with_prompt([Outgoing(texts.t("non_text"))])
        if not self.text:
            key = "voice_no_text" if self.message.kind == "voice" else "empty"
            return self._with_prompt([Outgoing(texts.t(key))])
        analysis = self.ctx.analysis
        if analysis.crisis:
            key = "crisis.self" if analysis.self_harm else "crisis"
            first.append(Outgoing(texts.t(key), urgent=True))
        if is_new:
            first.append(Outgoing(texts.t("greeting") + "\n" + texts.t("privacy")))
        return first + self._dispatch()

    def _dispatch(self) -> list[Outgoing]:
        notes: list[Outgoing] = []
        expired = self.data.pop(EXPIRED, None)  # dropped by the scheduler (`forget_abandoned`)
        if self.flow is not None and self.idle > self.engine.drop_after:
            expired = self.flow
            self._clear()
        if expired:
            notes.append(Outgoing(texts.t("flow.expired", title=self._title(str(expired)))))
        rate = self.data.pop("rate", None)
        asked = self.data.pop("rate_asked", False)
        # A crisis or a pending 删除 comes first; the rating waits.
        quiet = self.ctx.analysis.crisis or self.data.get("pending") == "delete"
        if rate and not quiet:
            rated = progress.parse_rating(self.text, numbers=self.flow is None)
            thanks = progress.rate(self.fx, str(rate), *rated) if rated is not None else None
            if thanks is not None:
                return notes + self._with_prompt(thanks)
        replies = self._dispatch_message(notes)
        if rate and "rate" not in self.data and self.user.deleted_at is None:
            pending = self.data.get("pending") in ("delete", "resume")
            if quiet or pending or self.data.get("handoff"):
                self.data["rate"], self.data["rate_asked"] = rate, asked  # ask later, not now
            elif not asked:
                self.data["rate"], self.data["rate_asked"] = rate, True
                replies.append(progress.rating_reminder(str(rate)))
        return replies

    def _dispatch_message(self, notes: list[Outgoing]) -> list[Outgoing]:
        """Resume offer, paging, pending confirmations, hand-over, commands, flow or routing."""
        idle = self.idle > self.engine.resume_after
        if self.flow is not None and idle and not self.ctx.analysis.crisis:
            self.data["pending"] = "resume"
            return [Outgoing(texts.t("flow.resume", title=self._title()), ("继续", "取消"))]
        command = parse_command(self.text)
        pages = self.data.pop("more", None)
        if command is not None and command.name == "more":
            if not pages:
                return [Outgoing(texts.t("more.none"))]
            page, rest = next_page(pages, self.max_bytes)
            if rest:
                self.data["more"] = rest
            return [page]
        pending = self.data.pop("pending", None)
        if pending == "delete":
            if self.text.replace(" ", "") == "确认删除":
                self._clear()
                self.data = {}
                return actions.erase_resident(self.fx)
            notes.append(Outgoing(texts.t("delete.kept")))
        if pending == "resume" and command is not None and command.name == "resume":
            return [self._prompt()]
        if self.data.get("handoff"):
            if command is None or command.name not in ("menu", "cancel", "progress", "delete"):
                actions.forward_to_human(self.fx, slots=self._slots(), text=self.text)
                return [*notes, Outgoing(texts.t("human.forwarded"))]
            self.data.pop("handoff", None)
        if command is not None:
            return notes + self._command(command)
        if self.flow is not None:
            return notes + self._answer()
        return notes + self._route()

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
            run, state = self._run(runner)
            if name == "cancel":
                return self._apply(runner.cancel(run, state))
            if name == "back":
                return self._apply(runner.back(run, state, self.ctx))
            if name == "help":
                return self._apply(runner.help(run, state, self.ctx))
            return [runner.prompt(run, state, self.ctx)]
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
            replies = actions.hand_over(self.fx, slots=self._slots(), channel=self.message.channel)
            self._clear()
            self.data["handoff"] = True
            return replies
        if name == "progress":
            return self._with_prompt(progress.list_requests(self.fx))
        if name in ("take", "resolve", "withdraw", "detail"):
            return self._with_prompt(progress.act(self.fx, name, command.code, command.note))
        if name == "contacts":
            return self._with_prompt(contacts.list_points(self.fx))
        if name == "contact_point":
            return self._with_prompt(contacts.add_point(self.fx, command.note))
        if name == "pair":
            return self._with_prompt(contacts.add_pair(self.fx, command.note))
        if name == "delete":
            self.data["pending"] = "delete"
            return [Outgoing(texts.t("delete.confirm"), ("确认删除", "不删除"))]
        return self._start(name, prefill=False)

    def _start(
        self, entry: str, *, prefill: bool, meta: dict[str, Any] | None = None
    ) -> list[Outgoing]:
        flow = "onboarding" if entry == "bind" else entry
        if flow == "visit_report" and not self.ctx.user.is_cadre:
            return [Outgoing(texts.t("visit.cadre_only"))]
        if flow == "onboarding" and self.ctx.user.is_cadre:
            unit = UnitPath.parse(self.ctx.user.unit_path or "").below_city
            return [Outgoing(texts.t("bind.already", unit=unit))]
        if flow == "quarterly":
            return self._start_quarterly()
        runner = self.engine.runners[flow]
        self.flow = flow
        turn = runner.start(self.ctx, prefill=prefill, meta=meta)
        if flow == "onboarding" and self.text.replace(" ", "") not in ("绑定", "干部绑定"):
            turn = runner.answer(turn.run, turn.state, self.ctx)  # `绑定 <code>` answers at once
        return self._apply(turn)

    def _start_quarterly(self) -> list[Outgoing]:
        """季度汇总: look up the open quarters and their figures, then ask or summarise."""
        begun = quarterly.begin(self.fx, due_days=self.engine.settings.report_due_days)
        if isinstance(begun, list):
            return self._with_prompt(begun)
        self._clear()
        self.flow = "quarterly"
        return self._apply(quarterly.start(self.engine.runners["quarterly"], self.ctx, slots=begun))

    # ------------------------------------------------------------------ flows

    def _answer(self) -> list[Outgoing]:
        runner = self._runner()
        assert runner is not None
        run, state = self._run(runner)
        if self.ctx.analysis.crisis:
            run.meta["crisis"] = True
        if self.flow == "quarterly":
            field = quarterly.edit_word(self.text, state)
            if field is not None:
                return self._apply(runner.edit(run, state, self.ctx, field))
        return self._apply(runner.answer(run, state, self.ctx))

    def _apply(self, turn: Turn) -> list[Outgoing]:
        """Keep the run's new state; file it when confirmed; forget it when ended."""
        replies = list(turn.replies)
        if turn.done:
            assert self.flow is not None
            replies += self.engine.finishers[self.flow](self.fx, turn.run)
        if turn.done or turn.cancelled:
            self._clear()
        else:
            self.state = turn.state
            self.data["run"] = turn.run.to_json()
        return replies

    def _route(self) -> list[Outgoing]:
        """Free text at idle: a menu number, a visit note (cadres), a need, or the menu."""
        entry = menu_entry(
            self.text, cadre=self.ctx.user.is_cadre, district=_is_district(self.ctx.user)
        )
        if entry is not None:
            return self._command(Command(entry))
        analysis = self.ctx.analysis
        if self.ctx.user.is_cadre and _reads_as_visit(self.text, analysis):
            return self._start("visit_report", prefill=True)
        if analysis.crisis or analysis.primary is not None:
            meta = {"crisis": True} if analysis.crisis else None
            return self._start("help_request", prefill=True, meta=meta)
        return [Outgoing(texts.t("unknown")), self._menu()]

    # ------------------------------------------------------------------ helpers

    def _runner(self) -> FlowRunner | None:
        return self.engine.runners.get(self.flow) if self.flow else None

    def _run(self, runner: FlowRunner) -> tuple[FlowRun, str]:
        stored = dict(self.data.get("run") or {})
        run = FlowRun(
            runner.spec,
            slots=stored.get("slots"),
            misses=stored.get("misses", 0),
            history=stored.get("history"),
            meta=stored.get("meta"),
        )
        return run, self.state or runner.spec.slots[0].name

    def _prompt(self) -> Outgoing:
        runner = self._runner()
        if runner is None:
            return self._menu()
        run, state = self._run(runner)
        return runner.prompt(run, state, self.ctx)

    def _with_prompt(self, replies: list[Outgoing]) -> list[Outgoing]:
        """Replies, then the pending question again when a flow is active."""
        return [*replies, self._prompt()] if self.flow is not None else replies

    def _slots(self) -> dict[str, object]:
        return dict((self.data.get("run") or {}).get("slots") or {})

    def _clear(self) -> None:
        self.flow = None
        self.state = None
        self.data.pop("run", None)

    def _title(self, flow: str | None = None) -> str:
        runner = self.engine.runners.get(flow) if flow else self._runner()
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


def _reads_as_visit(text: str, analysis: Any) -> bool:
    """A cadre's free text reads as a visit note when it says when, where or how she visited."""
    if analysis.visit_form is not None:
        return True
    said = sum(
        x is not None
        for x in (analysis.date, analysis.district or analysis.street or analysis.community)
    )
    return (
        said >= 1
        and len(text) >= NOTE_CHARS
        and ("走访" in text or "访" in text or said == 2 or bool(analysis.focus))
    )
