"""The dialogue modes: the machine's moves, their precedence, the stored form, and chats that
walk through them (a pending 删除 and a hand-over above a rating she owes)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from transitions import MachineError

from bot.domain.dialogue import (
    AWAITING_DELETE,
    AWAITING_RATING,
    AWAITING_RESUME,
    CRISIS,
    HANDED_OVER,
    IDLE,
    IN_FLOW,
    MOVES,
    PRECEDENCE,
    SAFETY_CHECK,
    DialogueState,
    Mode,
    forget_abandoned,
)
from bot.flows.diagram import DIALOGUE_DIAGRAM, dialogue_mermaid
from storage import repo
from storage.db import Database
from tests.conftest import Chat

RUN = {"slots": {"need": "想找保洁工作"}, "misses": 0, "history": ["need"], "meta": {}}
NOW = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)


def _in_flow(**extra: Any) -> DialogueState:
    """A dialogue in the help flow's second question."""
    state = DialogueState(**extra)
    if state.rating and state.mode is IDLE:
        state.mode = AWAITING_RATING
    state.start_flow("help_request", "categories", dict(RUN))
    return state


# ----------------------------------------------------------------------------- stored form

# (flow column, data as stored by the code before this module existed) → mode
OLD_ROWS = [
    (None, {}, IDLE),
    ("help_request", {"run": RUN}, IN_FLOW),
    ("help_request", {"run": RUN, "pending": "resume"}, AWAITING_RESUME),
    ("help_request", {"run": RUN, "pending": "delete"}, AWAITING_DELETE),
    (None, {"pending": "delete", "rate": "AB12CD"}, AWAITING_DELETE),
    (None, {"handoff": True, "rate": "AB12CD", "rate_asked": True}, HANDED_OVER),
    ("help_request", {"run": RUN, "rate": "AB12CD"}, IN_FLOW),
    ("help_request", {"run": RUN, "pending": "resume", "rate": "AB12CD"}, AWAITING_RESUME),
    (None, {"rate": "AB12CD"}, AWAITING_RATING),
    (None, {"expired": "visit_report", "more": ["第二页"]}, IDLE),
    (None, {"crisis": "AB12CD"}, CRISIS),
    ("help_request", {"run": RUN, "crisis": "AB12CD", "rate": "EF34GH"}, CRISIS),
    (None, {"safety": {"at": "2026-03-18T02:00:00+00:00"}}, SAFETY_CHECK),
    ("help_request", {"run": RUN, "safety": {"at": "x"}, "rate": "EF34GH"}, SAFETY_CHECK),
]


@pytest.mark.parametrize(("flow", "data", "mode"), OLD_ROWS)
def test_stored_marks_read_as_the_highest_mode(
    flow: str | None, data: dict[str, Any], mode: Mode
) -> None:
    """A stored dialogue's mode is the first of PRECEDENCE whose mark it holds, and it is
    stored back exactly as it was read."""
    state = DialogueState.from_stored(flow, "categories" if flow else None, data)
    assert state.mode is mode
    assert state.to_stored() == (flow, "categories" if flow else None, data)


def test_precedence_lists_every_mode_once() -> None:
    """Every mode has its place in the precedence; idle is last."""
    assert sorted(PRECEDENCE) == sorted(Mode) and PRECEDENCE[-1] is IDLE


def test_an_old_format_row_loads(database: Database) -> None:
    """A row stored in the old format (the keys the conversation wrote before the machine)
    loads with its mode, flow, rating and pages; expect_rating's mark reads as awaiting it."""
    with database.transaction() as session:
        user, dialogue, _new = repo.user_at(session, channel="api", external_id="old", now=NOW)
        data = {"run": RUN, "pending": "resume", "rate": "AB12CD", "more": ["页"]}
        repo.save_dialogue(
            session, dialogue=dialogue, flow="help_request", state="district", data=data, now=NOW
        )
        user_id = user.id or 0
    with database.read() as session:
        stored = repo.load_dialogue(session, user_id=user_id, now=NOW)
    state = DialogueState.from_stored(stored.flow, stored.state, stored.data)
    assert (state.mode, state.flow, state.step) == (AWAITING_RESUME, "help_request", "district")
    assert (state.rating, state.rating_asked, state.pages) == ("AB12CD", False, ["页"])
    with database.transaction() as session:
        repo.save_dialogue(session, dialogue=stored, flow=None, state=None, data={}, now=NOW)
        repo.expect_rating(session, user_id=user_id, code="EF34GH", now=NOW)
    with database.read() as session:
        stored = repo.load_dialogue(session, user_id=user_id, now=NOW)
    state = DialogueState.from_stored(stored.flow, stored.state, stored.data)
    assert (state.mode, state.rating, state.rating_asked) == (AWAITING_RATING, "EF34GH", False)


def test_forget_abandoned_drops_the_flow_and_keeps_the_rest() -> None:
    """The scheduler's purge: no flow, slots, pages or resume offer; the rating, a pending 删除
    and the dropped flow's name stay."""
    assert forget_abandoned(
        "help_request", {"run": RUN, "pending": "resume", "rate": "AB12CD", "more": ["页"]}
    ) == {"rate": "AB12CD", "expired": "help_request"}
    assert forget_abandoned("help_request", {"run": RUN, "pending": "delete"}) == {
        "pending": "delete",
        "expired": "help_request",
    }
    assert forget_abandoned(None, {"handoff": True, "more": ["页"]}) == {"handoff": True}


# ----------------------------------------------------------------------------- moves

# (state before, move, mode after)
MOVES_TABLE: list[tuple[Callable[[], DialogueState], Callable[[DialogueState], None], Mode]] = [
    (DialogueState, lambda s: s.start_flow("help_request", "need", {}), IN_FLOW),
    (_in_flow, DialogueState.finish_flow, IDLE),
    (lambda: _in_flow(rating="AB12CD"), DialogueState.finish_flow, AWAITING_RATING),
    (_in_flow, DialogueState.pause, AWAITING_RESUME),
    (_in_flow, DialogueState.ask_delete, AWAITING_DELETE),
    (_in_flow, DialogueState.hand_over, HANDED_OVER),
    (_in_flow, DialogueState.expire, IDLE),
    (lambda: _in_flow(rating="AB12CD"), DialogueState.expire, AWAITING_RATING),
    (lambda: _in_flow(rating="AB12CD"), DialogueState.rated, IN_FLOW),
    (lambda: _in_flow(rating="AB12CD"), DialogueState.drop_rating, IN_FLOW),
    (DialogueState, lambda s: s.expect_rating("AB12CD"), AWAITING_RATING),
    (lambda: DialogueState(mode=AWAITING_RATING, rating="X"), DialogueState.rated, IDLE),
    (lambda: DialogueState(mode=AWAITING_RATING, rating="X"), DialogueState.drop_rating, IDLE),
    (lambda: DialogueState(mode=AWAITING_RATING, rating="X"), DialogueState.hand_over, HANDED_OVER),
    (lambda: DialogueState(mode=HANDED_OVER, rating="X"), DialogueState.release, AWAITING_RATING),
    (lambda: DialogueState(mode=HANDED_OVER), DialogueState.release, IDLE),
    (lambda: DialogueState(mode=HANDED_OVER, rating="X"), DialogueState.rated, HANDED_OVER),
    (lambda: DialogueState(mode=AWAITING_DELETE, rating="X"), DialogueState.keep, AWAITING_RATING),
    (lambda: DialogueState(mode=AWAITING_DELETE), DialogueState.confirm_delete, IDLE),
    (
        lambda: DialogueState(mode=AWAITING_DELETE, flow="help_request", step="need", run=RUN),
        DialogueState.keep,
        IN_FLOW,
    ),
    (
        lambda: DialogueState(mode=AWAITING_RESUME, flow="help_request", step="need", run=RUN),
        DialogueState.resume,
        IN_FLOW,
    ),
]


@pytest.mark.parametrize(("before", "move", "after"), MOVES_TABLE)
def test_moves(
    before: Callable[[], DialogueState], move: Callable[[DialogueState], None], after: Mode
) -> None:
    """Each move lands in the declared mode; leaving one falls back to the highest still held."""
    state = before()
    move(state)
    assert state.mode is after


@pytest.mark.parametrize(
    ("state", "move"),
    [
        (DialogueState(mode=HANDED_OVER), DialogueState.ask_delete),
        (DialogueState(mode=AWAITING_DELETE), DialogueState.hand_over),
        (DialogueState(), DialogueState.finish_flow),
        (DialogueState(), DialogueState.resume),
        (DialogueState(mode=AWAITING_DELETE), lambda s: s.start_flow("help_request", "need", {})),
    ],
)
def test_moves_not_declared_are_refused(
    state: DialogueState, move: Callable[[DialogueState], None]
) -> None:
    """A move the machine does not declare from a mode raises (the conversation resolves a
    pending confirmation or a hand-over before anything else)."""
    with pytest.raises(MachineError):
        move(state)


def test_confirm_delete_forgets_everything() -> None:
    """确认删除 leaves an empty, idle dialogue."""
    state = _in_flow(rating="AB12CD", pages=["页"])
    state.ask_delete()
    state.confirm_delete()
    assert state == DialogueState()


# ----------------------------------------------------------------------------- diagram


def test_diagram_matches_machine() -> None:
    """dialogue.mmd is exactly what the machine draws (python -m bot.flows.diagram)."""
    assert DIALOGUE_DIAGRAM.read_text(encoding="utf-8") == dialogue_mermaid()


def test_diagram_names_every_mode_and_move() -> None:
    """Every mode and every trigger appears in the diagram."""
    text = DIALOGUE_DIAGRAM.read_text(encoding="utf-8")
    for mode in Mode:
        assert f" {mode}" in text, mode
    for move in MOVES:
        assert f" {move.trigger}" in text, move.trigger


# ----------------------------------------------------------------------------- in chat

FILE = [
    ("我要求助", "困难"),
    ("想找一份离家近的保洁工作", "区"),
    ("朝阳区双井街道", "联系"),
    ("1", "核对"),
]


def _resolved(woman: Chat, officer: Chat) -> str:
    """File a request as `woman`, resolve it as `officer`: she owes its rating."""
    woman.run(FILE)
    found = re.search(r"编号 ([A-Z0-9]{6})", woman.say("确认"))
    assert found
    officer.run([(f"办结 {found.group(1)} 已介绍到社区保洁岗位", "已办结")])
    woman.pushed()
    return found.group(1)


def test_a_pending_delete_comes_before_the_rating(
    chat: Callable[..., Chat], cadre: Callable[..., Chat]
) -> None:
    """While 删除 waits for confirmation her 满意 is not a rating; kept, she rates next."""
    officer, woman = cadre(), chat()
    _resolved(woman, officer)
    woman.run(
        [
            ("删除我的信息", "确定要删除您的个人信息吗"),
            ("满意", "没有删除"),
            ("满意", "谢谢您的评价（满意）"),
        ]
    )


def test_a_hand_over_holds_the_rating_until_it_ends(
    chat: Callable[..., Chat], cadre: Callable[..., Chat]
) -> None:
    """Handed over, her messages go to a person and she is not asked to rate; 菜单 ends the
    hand-over and the rating is asked then."""
    officer, woman = cadre(), chat()
    code = _resolved(woman, officer)
    woman.run(
        [
            ("转人工", "已为您转人工"),
            ("我还想问问别的事", "已转给工作人员"),
            ("菜单", f"您对求助 {code} 的办理满意吗"),
            ("2", "谢谢您的评价（基本满意）"),
        ]
    )


# ----------------------------------------------------------------------------- crisis

CRISIS_EXITS = [
    ({}, IDLE),
    ({"rating": "AB12CD"}, AWAITING_RATING),
]


@pytest.mark.parametrize(("extra", "after"), CRISIS_EXITS)
def test_a_crisis_falls_back_to_what_is_still_held(extra: dict[str, Any], after: Mode) -> None:
    """Leaving a crisis (no flow underneath) returns to a rating she owes, else idle."""
    state = DialogueState(**extra)
    if state.rating:
        state.mode = AWAITING_RATING
    state.enter_crisis("XY12ZW")
    assert state.mode is CRISIS and state.to_stored()[2]["crisis"] == "XY12ZW"
    state.end_crisis()
    assert state.mode is after and state.case is None


@pytest.mark.parametrize("mode", [IN_FLOW, AWAITING_RESUME, AWAITING_DELETE])
def test_a_crisis_pauses_the_flow_underneath(mode: Mode) -> None:
    """A crisis in a flow (or above one) keeps the flow; leaving it offers to resume it."""
    state = _in_flow()
    state.mode = mode
    state.enter_crisis("XY12ZW")
    assert state.flow == "help_request" and state.step == "categories"
    state.end_crisis()
    assert state.mode is AWAITING_RESUME


def test_a_crisis_drops_a_hand_over() -> None:
    """A crisis while handed over: the case takes over; afterwards she is idle."""
    state = DialogueState()
    state.hand_over()
    state.enter_crisis("XY12ZW")
    state.end_crisis()
    assert state.mode is IDLE and "handoff" not in state.to_stored()[2]


# ----------------------------------------------------------------------------- safety check

CHECK = {"at": "2026-03-18T02:00:00+00:00", "analysis": {"text": "他又喝醉了"}}


def test_safety_check_sits_below_crisis_and_above_the_rest() -> None:
    """The declared precedence: a crisis, then a safety check, then everything else."""
    assert PRECEDENCE[:2] == (CRISIS, SAFETY_CHECK)


@pytest.mark.parametrize(
    ("mode", "after"),
    [(IDLE, IDLE), (IN_FLOW, IN_FLOW), (AWAITING_RESUME, IN_FLOW), (AWAITING_DELETE, IN_FLOW)],
)
def test_a_clear_safe_falls_back_to_what_is_still_held(mode: Mode, after: Mode) -> None:
    """A safety check may begin above a flow (kept) or a confirmation (dropped); 安全 returns
    the remembered message and falls back to the flow, or idle."""
    state = _in_flow() if mode is not IDLE else DialogueState()
    state.mode = mode
    state.ask_safety(dict(CHECK))
    assert state.mode is SAFETY_CHECK and state.to_stored()[2]["safety"] == CHECK
    assert state.safe() == CHECK
    assert state.mode is after and state.check is None and "safety" not in state.to_stored()[2]


def test_a_safety_check_keeps_a_rating_she_owes() -> None:
    """A rating she owes waits under a safety check, unheard, and is owed after 安全."""
    state = DialogueState(rating="AB12CD", mode=AWAITING_RATING)
    state.ask_safety(dict(CHECK))
    assert state.mode is SAFETY_CHECK and state.rating == "AB12CD"
    state.safe()
    assert state.mode is AWAITING_RATING


def test_anything_but_safe_enters_the_crisis_with_the_flow_paused() -> None:
    """Not a clear 安全: the remembered message is taken and the crisis begins; a flow underneath
    is paused (leaving the crisis offers to resume it)."""
    state = _in_flow()
    state.ask_safety(dict(CHECK))
    assert state.take_check() == CHECK
    state.enter_crisis("XY12ZW")
    assert state.mode is CRISIS and "safety" not in state.to_stored()[2]
    state.end_crisis()
    assert state.mode is AWAITING_RESUME


@pytest.mark.parametrize("mode", [CRISIS, SAFETY_CHECK, HANDED_OVER])
def test_no_safety_check_in_a_crisis_a_check_or_a_hand_over(mode: Mode) -> None:
    """A safety check is never asked in a crisis (her words go to the case), above another
    one, or handed over (her words go to a person)."""
    with pytest.raises(MachineError):
        DialogueState(mode=mode).ask_safety(dict(CHECK))


def test_her_last_words_are_few_and_short() -> None:
    """The hand-off's transcript kept in the state: her last six messages, each cut to 500
    characters, so a long message does not grow every save of her dialogue."""
    from bot.domain.dialogue import SAID, SAID_CHARS, DialogueState

    state = DialogueState()
    for n in range(8):
        state.remember(str(n) * 3000)
    assert state.said is not None and len(state.said) == SAID == 6
    assert state.said[0] == "2" * SAID_CHARS and all(len(t) == 500 for t in state.said)
    assert DialogueState.from_stored(*state.to_stored()).said == state.said
