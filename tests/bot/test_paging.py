"""Replies fitted to a channel's profile: a byte limit with 更多 for the rest, several messages
under a length limit, choices only where there are buttons."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.messages import Incoming, Outgoing
from bot.paging import ChannelProfile, fit, paginate, split_utf8, split_utf16


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


def test_fit_without_limits_keeps_the_replies() -> None:
    """A channel with no limits and buttons (API, web chat, terminal) gets the replies as they are."""
    replies = [Outgoing("一", ("a", "b")), Outgoing("二", urgent=True)]
    assert fit(replies, ChannelProfile()) == replies


def test_fit_to_a_byte_limit_is_one_text_without_buttons() -> None:
    """WeChat-like: the bubbles become one text within the limit, the choices dropped (the text
    numbers them), an urgent bubble keeps the whole reply urgent."""
    profile = ChannelProfile(reply_bytes=2048, buttons=False)
    fitted = fit([Outgoing("一", urgent=True), Outgoing("二", ("a",))], profile)
    assert fitted == [Outgoing("一\n\n二", (), urgent=True)]
    [long] = fit([Outgoing("字" * 1500)], profile)
    assert len(long.text.encode()) <= 2048 and "更多" in long.text


def test_fit_is_idempotent_on_what_the_engine_paged() -> None:
    """The engine pages with the profile's reply_bytes; fitting its answer again changes nothing."""
    profile = ChannelProfile(reply_bytes=300, buttons=False)
    paged, pages = paginate([Outgoing("好" * 400)], 300)
    assert pages and fit(paged, profile) == paged


def test_fit_to_a_message_limit_splits_each_reply() -> None:
    """Telegram-like: each reply over the limit goes as several messages, choices on its last;
    an empty text sends nothing."""
    profile = ChannelProfile(message_units=10)
    fitted = fit([Outgoing("一二三四五\n六七八九十\n甲乙", ("是",)), Outgoing("")], profile)
    assert fitted == [Outgoing("一二三四五"), Outgoing("六七八九十\n甲乙", ("是",))]


@pytest.mark.parametrize("text", ["好" * 5000, "行\n" * 3000, "😀" * 2500])
def test_split_utf16_keeps_every_piece_within_the_limit(text: str) -> None:
    """Pieces fit 4096 UTF-16 units and only line ends between them are lost."""
    pieces = split_utf16(text, 4096)
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
