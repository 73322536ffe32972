"""Every channel declares what its messages carry (`PROFILE`), and `bot.paging.fit` shapes the
engine's replies to it."""

from __future__ import annotations

import pytest

from bot.channels import api, terminal, webchat
from bot.channels import wechat as wechat_package
from bot.channels.telegram import convert as telegram
from bot.messages import Outgoing
from bot.paging import ChannelProfile, fit


def test_wechat_takes_one_text_of_2048_bytes_without_buttons() -> None:
    """WeChat's (and WeCom's) passive reply: one text of at most 2048 UTF-8 bytes, no buttons."""
    assert ChannelProfile(reply_bytes=2048, buttons=False) == wechat_package.PROFILE


def test_telegram_takes_4096_units_a_message_with_buttons() -> None:
    """Telegram: 4096 UTF-16 units a message, choices as an inline keyboard."""
    assert ChannelProfile(message_units=4096, buttons=True) == telegram.PROFILE


@pytest.mark.parametrize("profile", [api.PROFILE, webchat.PROFILE, terminal.PROFILE])
def test_the_other_channels_take_the_replies_as_they_are(profile: ChannelProfile) -> None:
    """The API, the web chat and the terminal have no limit and show choices: fit changes
    nothing."""
    replies = [Outgoing("一" * 5000, ("是", "否")), Outgoing("二", urgent=True)]
    assert fit(replies, profile) == replies
