"""The safety check: a message with danger signals but not enough to be sure (the NLP's
`safety_check`, docs/TAXONOMY.md "Safety check") is answered first and alone with
您现在安全吗？如果有危险，请立即拨打110。 (安全 / 不安全), and the message is remembered.

Only a clear 安全 (`is_clearly_safe`) lets the remembered message go on with the normal intake
(a request it leads to is filed marked 需关注). Anything else — 不安全, any other words, a
crisis, or no answer for FUQING_SAFETY_CHECK_MINUTES — follows the crisis path: an urgent case
holding the remembered words (and her answer) is opened at once (`bot.domain.urgent.open_case`).
Silence is the scheduler's to act on: `escalate_unanswered` opens the case, puts the dialogue in
its crisis mode and pushes her the hotlines and whom the case reached (urgent: quiet hours do not
hold it). The pending check is stored in the dialogue (`DialogueState.check`, data `safety`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot import texts
from bot.domain import urgent
from bot.domain.dialogue import SAFETY_CHECK, DialogueState
from bot.nlp import Analysis
from bot.nlp.words import words
from storage import repo

_NOISE = re.compile(r"[\s\W_]+")
ESCALATE_BATCH = 100  # unanswered checks escalated per scheduler tick (the next takes the rest)


@dataclass(frozen=True)
class SafetyCheck:
    """A pending safety check: the remembered message (its words and what it asked for: the
    analysis), where she wrote from, when she was asked, and whether it was her first message."""

    analysis: Analysis
    channel: str
    address: str
    asked_at: datetime
    first: bool = False  # her first message: the greeting comes when the intake goes on
    idle: timedelta = timedelta(0)  # how long her dialogue had been idle before the message

    def to_json(self) -> dict[str, Any]:
        """The stored form (dialogue data `safety`; `at` is what the scheduler looks at)."""
        return {
            "at": self.asked_at.isoformat(),
            "channel": self.channel,
            "address": self.address,
            "first": self.first,
            "idle": self.idle.total_seconds(),
            "analysis": self.analysis.to_json(),
            # the need reading behind "which of two", when she goes on after 安全
            "need_scores": [list(pair) for pair in self.analysis.need_scores],
            "need_words": [list(pair) for pair in self.analysis.need_words],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SafetyCheck:
        """The inverse of `to_json`."""
        return cls(
            analysis=dataclasses.replace(
                analysis_from_json(data["analysis"]),
                need_scores=tuple((str(c), float(v)) for c, v in data.get("need_scores") or ()),
                need_words=tuple((str(c), str(w)) for c, w in data.get("need_words") or ()),
            ),
            channel=str(data.get("channel") or ""),
            address=str(data.get("address") or ""),
            asked_at=datetime.fromisoformat(str(data["at"])),
            first=bool(data.get("first")),
            idle=timedelta(seconds=float(data.get("idle") or 0)),
        )


def analysis_from_json(data: dict[str, Any]) -> Analysis:
    """An `Analysis` from its `to_json` form (the scheduler has no NLP to redo it)."""
    day = data.get("date")
    return Analysis(
        text=str(data["text"]),
        primary=data.get("primary"),
        categories=tuple(data.get("categories") or ()),
        crisis=bool(data.get("crisis")),
        self_harm=bool(data.get("self_harm")),
        date=dt.date.fromisoformat(day) if day else None,
        district=data.get("district"),
        street=data.get("street"),
        community=data.get("community"),
        visit_form=data.get("visit_form"),
        focus=tuple(data.get("focus") or ()),
        phones=tuple(data.get("phones") or ()),
        id_numbers=tuple(data.get("id_numbers") or ()),
        safety_check=bool(data.get("safety_check")),
    )


def is_clearly_safe(answer: str) -> bool:
    """A clear 安全: the whole answer, bar punctuation and spaces, is one of words.toml
    [safety_check] `safe`, and holds none of its `unsafe` words."""
    bare = _NOISE.sub("", answer).lower()
    if any(word in bare for word in words("safety_check", "unsafe")):
        return False
    return bare in words("safety_check", "safe")


def with_answer(remembered: Analysis, answer: Analysis | None) -> Analysis:
    """What the urgent case holds: the remembered message, then her answer (its words, and a
    place, phone or self-harm it adds)."""
    if answer is None or not answer.text.strip():
        return remembered
    return dataclasses.replace(
        remembered,
        text=f"{remembered.text}\n{answer.text}",
        self_harm=remembered.self_harm or answer.self_harm,
        district=remembered.district or answer.district,
        street=remembered.street or answer.street,
        community=remembered.community or answer.community,
        phones=tuple(dict.fromkeys((*answer.phones, *remembered.phones))),
        categories=remembered.categories or answer.categories,
        primary=remembered.primary or answer.primary,
    )


def overdue(check: SafetyCheck, *, now: datetime, wait: timedelta) -> bool:
    """The rule: a safety check left unanswered `wait` (FUQING_SAFETY_CHECK_MINUTES) escalates."""
    return now - check.asked_at >= wait


def crisis_reply(opened: urgent.Opened, *, self_harm: bool) -> str:
    """The crisis path's first bubble: the hotlines and whom her case reached."""
    hotlines = texts.t("crisis.self" if self_harm else "crisis")
    reached = texts.t(f"crisis.reached.{opened.reached}", unit=opened.unit_label)
    return f"{hotlines}\n{reached}"


def escalate_unanswered(session: Session, *, now: datetime, wait: timedelta) -> list[str]:
    """Open the urgent case of every safety check unanswered for `wait` at `now`, put her
    dialogue in crisis and push her the hotlines, whom it reached and the phone question;
    return the cases' codes. A dialogue she answered meanwhile is left alone."""
    opened: list[str] = []
    for dialogue in repo.unanswered_safety_checks(
        session, asked_by=now - wait, limit=ESCALATE_BATCH
    ):
        state = DialogueState.from_stored(dialogue.flow, dialogue.state, dialogue.data)
        if state.mode is not SAFETY_CHECK or state.check is None:
            continue
        check = SafetyCheck.from_json(state.check)
        if not overdue(check, now=now, wait=wait):
            continue
        try:
            with session.begin_nested():  # her answer saved meanwhile: nothing of this stays
                code = _escalate(session, dialogue, state, check, now=now)
        except repo.ConcurrentUpdate:
            continue
        opened.append(code)
    return opened


def _escalate(
    session: Session,
    dialogue: repo.Dialogue,
    state: DialogueState,
    check: SafetyCheck,
    *,
    now: datetime,
) -> str:
    """The crisis path for one silent dialogue (in the caller's savepoint)."""
    state.take_check()
    case = urgent.open_case(
        session,
        user_id=dialogue.user_id,
        analysis=check.analysis,
        channel=check.channel,
        address=check.address,
        now=now,
    )
    state.enter_crisis(case.request.code)
    flow, step, data = state.to_stored()
    repo.save_dialogue(session, dialogue=dialogue, flow=flow, state=step, data=data, now=now)
    text = crisis_reply(case, self_harm=check.analysis.self_harm)
    if not case.request.phone:
        text += "\n" + texts.t("crisis.ask_phone")
    repo.enqueue(
        session,
        user_id=dialogue.user_id,
        text=text,
        now=now,
        key=f"safety:{case.request.code}:u{dialogue.user_id}",
        urgent=True,
    )
    return case.request.code
