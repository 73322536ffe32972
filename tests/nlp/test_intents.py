"""The plain-language intents: kinds of sentence, not the testers' sentences."""

from __future__ import annotations

import pytest

from bot.nlp.intents import MAX_CHARS, intent_of


@pytest.mark.parametrize(
    "text, intent",
    [
        ("我上周反映的事怎么样了", "progress"),
        ("有人管我的事吗", "progress"),
        ("前几天提交的求助有消息了吗", "progress"),
        ("查一下进度", "progress"),
        ("该给谁打电话啊", "call"),
        ("妇联电话是多少？", "call"),
        ("你好", "greeting"),
        ("您好呀，在吗？", "greeting"),
        ("Hello", "greeting"),
        ("我想问个事", "ask"),
        ("你好，我想咨询一下", "ask"),
        ("😭😭😭", "emoji"),
        ("👍！", "emoji"),
        ("想找份工作", None),
        ("请问离婚需要什么手续", None),  # says what: a need
        ("对", None),
        ("1", None),
        ("？？", None),  # punctuation alone: the help command's business
        ("", None),
    ],
)
def test_intent_of(text: str, intent: str | None) -> None:
    """Each message is read as its intent, or as none."""
    assert intent_of(text) == intent


def test_a_long_message_is_never_an_intent() -> None:
    """A message longer than MAX_CHARS says more than an intent: the need reading takes it."""
    text = "你好，" + "我上周反映的事怎么样了" + "孩子上学的学费一直交不上" * 2
    assert len(text) > MAX_CHARS and intent_of(text) is None
