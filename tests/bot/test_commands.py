"""Global commands and menu entries are recognised from plain text."""

from __future__ import annotations

import pytest

from bot.commands import Command, menu_entry, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("取消", Command("cancel")),
        (" 返回。", Command("back")),
        ("？", Command("help")),
        ("菜单", Command("menu")),
        ("转人工", Command("human")),
        ("查询进度", Command("progress")),
        ("删除我的信息", Command("delete")),
        ("我要求助", Command("help_request")),
        ("走访记录", Command("visit_report")),
        ("绑定", Command("onboarding")),
        ("绑定 ABCD2345", Command("onboarding")),
        ("受理 k7m2qx", Command("take", code="K7M2QX")),
        (
            "办结 K7M2QX 已介绍到社区岗位",
            Command("resolve", code="K7M2QX", note="已介绍到社区岗位"),
        ),
        ("撤销K7M2QX", Command("withdraw", code="K7M2QX")),
        ("受理", Command("take")),
        ("你好", Command("greet")),
        ("我想取消低保资格怎么办", None),
        ("孩子发烧了", None),
    ],
)
def test_parse_command(text: str, expected: Command | None) -> None:
    """Commands are whole messages; ordinary sentences that contain a command word are not."""
    assert parse_command(text) == expected


def test_menu_numbers() -> None:
    """Bare numbers pick menu entries; cadres' menu starts with 走访记录."""
    assert menu_entry("1", cadre=False) == "help_request"
    assert menu_entry("1", cadre=True) == "visit_report"
    assert menu_entry("9", cadre=False) is None
    assert menu_entry("想找工作", cadre=False) is None


@pytest.mark.parametrize("text", ["³", "²", "¹²", "①"])
def test_digit_like_characters_are_not_menu_numbers(text: str) -> None:
    """Superscripts and circled numbers are digits to str.isdigit but not numbers to int():
    they name no menu entry (schemathesis found '³' raising ValueError in the engine)."""
    assert menu_entry(text, cadre=False) is None
