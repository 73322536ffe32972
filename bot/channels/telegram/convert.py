"""Converting between Telegram and the engine: an update becomes an `Incoming` on the `telegram`
channel (the user is the chat id, the message id `upd:<update_id>`); the channel's `PROFILE`
says how a reply is cut into messages Telegram accepts (`bot.paging.fit`), and its choices
become an inline keyboard whose buttons send their label back as her text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus

from bot.commands import WORDS
from bot.messages import Incoming, Kind
from bot.paging import ChannelProfile

CHANNEL = "telegram"
MAX_TEXT = 4096  # Telegram's limit for one message's text, in UTF-16 code units
# A long text goes as several messages, the keyboard on the last (`bot.paging.fit`).
PROFILE = ChannelProfile(message_units=MAX_TEXT, buttons=True)
MAX_CALLBACK_DATA = 64  # bytes of a button's callback_data
# Bot commands → the text (or event) they stand for; the rest of the text is passed as typed.
COMMANDS: dict[str, str] = {name: WORDS[name][0] for name in ("help", "cancel", "menu")}
NON_TEXT: tuple[tuple[str, Kind], ...] = (
    ("voice", "voice"),
    ("audio", "voice"),
    ("video_note", "voice"),
    ("location", "location"),
    ("venue", "location"),
)


def callback_data(label: str, number: int) -> str:
    """A button's callback_data: its label, or its number when the label is over 64 bytes
    (every choice question also takes the number)."""
    return label if len(label.encode()) <= MAX_CALLBACK_DATA else str(number)


def keyboard(choices: Sequence[str]) -> InlineKeyboardMarkup | None:
    """The choices as an inline keyboard, one button per row; None without choices."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=callback_data(label, number))]
            for number, label in enumerate(choices, start=1)
        ]
    )


def message_id(update: Update) -> str:
    """The update's message id for the engine's dedup: `upd:<update_id>`."""
    return f"upd:{update.update_id}"


def to_incoming(update: Update, *, at: datetime) -> Incoming | None:
    """The engine's view of an update; None for what needs no answer (edits, other members)."""
    chat = update.effective_chat
    if chat is None:
        return None
    kind: Kind = "text"
    text: str
    if update.callback_query is not None:
        text = update.callback_query.data or ""
    elif update.my_chat_member is not None:
        if update.my_chat_member.new_chat_member.status != ChatMemberStatus.BANNED:
            return None
        kind, text = "event", "unsubscribe"  # she blocked the bot: pushes stop
    elif update.message is not None:
        kind, text = _message_content(update.message)
    else:
        return None
    return Incoming(
        channel=CHANNEL,
        user=str(chat.id),
        text=text,
        kind=kind,
        msg_id=message_id(update),
        at=at,
    )


def _message_content(message: Message) -> tuple[Kind, str]:
    if message.text is not None:
        words = message.text[1:].split(maxsplit=1) if message.text.startswith("/") else []
        if not words:
            return "text", message.text
        command = words[0].split("@")[0].lower()  # /help@our_bot in a group
        if command == "start":
            return "event", "subscribe"  # the greeting, privacy notice and menu
        return "text", COMMANDS.get(command, message.text)
    if message.caption:
        return "text", message.caption
    for attribute, kind in NON_TEXT:
        if getattr(message, attribute) is not None:
            return kind, ""
    return "image", ""  # photos, files, stickers …: she is asked for text
