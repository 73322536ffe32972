"""取消, 返回 and 帮助 at every step of every flow, and 查询进度/菜单 in the middle of one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Chat

HELP_STEPS = [
    ("我要求助", "请说说您遇到的困难"),
    ("想找一份离家近的保洁工作", "区"),
    ("朝阳", "哪个街道"),
    ("跳过", "怎么联系您"),
    ("2", "手机号码"),
    ("13800138000", "请核对"),
]
VISIT_STEPS = [
    ("走访记录", "哪天走访的"),
    ("昨天", "在哪里走访的"),
    ("九龙社区", "是新的社区"),  # the test tree has no 社区: asked once
    ("是", "走访形式"),
    ("1", "走访了谁"),
    ("王某 1人", "重点群体"),
    ("无", "情况"),
    ("她想找份兼职，孩子放学后没人看", "求助单"),
    ("否", "请核对"),
]
BIND_STEPS = [("绑定", "请输入邀请码")]


def _flows(
    cadre: Callable[..., Chat], chat: Callable[..., Chat]
) -> dict[str, tuple[Callable[[str], Chat], list[tuple[str, str]]]]:
    return {
        "help": (lambda user: chat(user), HELP_STEPS),
        "visit": (lambda user: cadre(user=user), VISIT_STEPS),
        "bind": (lambda user: chat(user), BIND_STEPS),
    }


@pytest.mark.parametrize("flow", ["help", "visit", "bind"])
def test_help_at_every_step_repeats_the_question(flow: str, cadre, chat) -> None:
    """帮助 at each question explains it and asks the same question again."""
    make, steps = _flows(cadre, chat)[flow]
    for step in range(1, len(steps) + 1):
        person = make(f"{flow}-help-{step}")
        person.run(steps[:step])
        assert steps[step - 1][1] in person.say("帮助")


@pytest.mark.parametrize("flow", ["help", "visit", "bind"])
def test_back_at_every_step_asks_the_previous_question(flow: str, cadre, chat) -> None:
    """返回 goes to the previous question (at the first: says so) and the flow goes on."""
    make, steps = _flows(cadre, chat)[flow]
    for step in range(1, len(steps) + 1):
        person = make(f"{flow}-back-{step}")
        person.run(steps[:step])
        answer = person.say("返回")
        if step == 1:
            assert "已经是第一个问题了" in answer
        else:
            assert steps[step - 2][1] in answer
            person.run([steps[step - 1]])  # answering it again leads on


@pytest.mark.parametrize("flow", ["help", "visit", "bind"])
def test_cancel_at_every_step(flow: str, cadre, chat) -> None:
    """取消 at each question and at the summary drops the flow."""
    make, steps = _flows(cadre, chat)[flow]
    for step in range(1, len(steps) + 1):
        person = make(f"{flow}-cancel-{step}")
        person.run(steps[:step])
        assert "已取消" in person.say("取消")
        assert "没有进行中的事项" in person.say("取消")


def test_progress_in_the_middle_keeps_the_flow(chat) -> None:
    """查询进度 inside a flow answers and repeats the pending question."""
    woman = chat()
    woman.run(HELP_STEPS[:2])
    answer = woman.say("查询进度")
    assert "还没有求助记录" in answer and "哪个区" in answer
    woman.run([("朝阳", "哪个街道")])


def test_menu_leaves_the_flow(chat) -> None:
    """菜单 drops the flow and shows the menu."""
    woman = chat()
    woman.run(HELP_STEPS[:2])
    answer = woman.say("菜单")
    assert "已取消" in answer and "1. 我要求助" in answer
