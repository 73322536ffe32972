"""Replies fitted to a byte limit, and 更多 for the rest."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.messages import Incoming, Outgoing
from bot.paging import paginate, split_utf8


@pytest.mark.parametrize("text", ["好" * 1000, "ab\n" * 900, "第一句。" * 400 + "end"])
def test_split_utf8_keeps_every_byte_within_the_limit(text: str) -> None:
    """Pieces fit the limit, never split a character, and join back to the text."""
    pieces = split_utf8(text, 300)
    assert "".join(pieces) == text
    assert all(len(p.encode()) <= 300 for p in pieces)


def test_split_prefers_a_line_end() -> None:
    """A newline in the last third of a piece is where it breaks."""
    text = "甲" * 80 + "\n" + "乙" * 80
    assert split_utf8(text, 270)[0] == "甲" * 80 + "\n"


def test_paginate_joins_and_keeps_the_rest() -> None:
    """Several bubbles become one text; what does not fit is returned as pages."""
    short, rest = paginate([Outgoing("一"), Outgoing("二", ("a",))], 100)
    assert short == [Outgoing("一\n\n二", ("a",))] and rest == []
    long, pages = paginate([Outgoing("字" * 1500)], 2048)
    assert len(long[0].text.encode()) <= 2048 and "更多" in long[0].text and pages


def test_more_pages_through_the_engine(engine: Engine) -> None:
    """A long answer is cut at max_bytes; 更多 shows the next page, then says there is no more."""

    def say(text: str) -> str:
        [reply] = engine.handle_sync(
            Incoming(channel="wechat", user="o1", text=text), max_bytes=120
        )
        assert len(reply.text.encode()) <= 120
        return reply.text

    first = say("你好")  # greeting + privacy + menu: longer than 120 bytes
    assert "更多" in first
    seen = [first]
    while "更多" in seen[-1]:
        seen.append(say("更多"))
    assert "1. 我要求助" in "".join(seen)
    assert "没有更多" in say("更多")
