"""Fit replies to a channel: each channel declares a `ChannelProfile`, and `fit` is the one
step that shapes the engine's `list[Outgoing]` to it.

* **Pages behind 更多** (`reply_bytes`). WeChat's passive reply carries one text of at most
  2048 bytes. Such a channel hands the engine `max_bytes=PROFILE.reply_bytes`; the engine joins
  the bubbles (`paginate`), keeps the first page and stores the others in the dialogue, so that
  `更多` shows the next one (`next_page`). This half needs the dialogue, so it runs inside the
  engine's transaction.
* **Several messages** (`message_units`). Telegram takes 4096 UTF-16 units a message: a longer
  text goes out as several messages, cut at line ends, its choices on the last.
* **Buttons** (`buttons`). Without them the choices are dropped: the text already numbers them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts
from bot.messages import Outgoing


@dataclass(frozen=True)
class ChannelProfile:
    """What one message on a channel can carry; each channel declares its own `PROFILE`."""

    reply_bytes: int | None = None  # one reply text of at most this many UTF-8 bytes (更多 pages)
    message_units: int | None = None  # UTF-16 units per message; longer texts go as several
    buttons: bool = True  # choices become buttons (else the numbered lines of the text only)


def fit(replies: list[Outgoing], profile: ChannelProfile) -> list[Outgoing]:
    """The replies as `profile`'s channel sends them: paged to one text within `reply_bytes`
    (the engine has paged them already; what still overflows is cut), each text split into
    messages of at most `message_units` (choices on the last), choices dropped without buttons."""
    fitted = list(replies)
    if profile.reply_bytes is not None and fitted:
        first, _rest = paginate(fitted, profile.reply_bytes)
        fitted = [_cut_to_bytes(first[0], profile.reply_bytes)]
    if profile.message_units is not None:
        fitted = [piece for reply in fitted for piece in _split(reply, profile.message_units)]
    if not profile.buttons:
        fitted = [Outgoing(r.text, (), r.urgent) for r in fitted]
    return fitted


def _cut_to_bytes(reply: Outgoing, limit: int) -> Outgoing:
    """`reply` with its text cut to its first `limit` UTF-8 bytes (never inside a character)."""
    if len(reply.text.encode()) <= limit:
        return reply
    return Outgoing(split_utf8(reply.text, limit)[0], reply.choices, reply.urgent)


def _split(reply: Outgoing, limit: int) -> list[Outgoing]:
    """`reply` as messages of at most `limit` UTF-16 units; its choices on the last."""
    pieces = split_utf16(reply.text, limit)
    last = len(pieces) - 1
    return [
        Outgoing(piece, reply.choices if n == last else (), reply.urgent)
        for n, piece in enumerate(pieces)
    ]


def split_utf16(text: str, limit: int) -> list[str]:
    """Cut `text` into messages of at most `limit` UTF-16 units, at line ends when possible;
    blank pieces are dropped."""
    chunks: list[str] = []
    rest = text
    while _utf16(rest) > limit:
        cut, units = 0, 0
        for index, char in enumerate(rest):
            units += _utf16(char)
            if units > limit:
                break
            cut = index + 1
        newline = rest.rfind("\n", 0, cut)
        end = newline + 1 if newline > 0 else cut
        chunks.append(rest[:end].rstrip("\n"))
        rest = rest[end:]
    if rest.strip():
        chunks.append(rest)
    return [c for c in chunks if c.strip()]


def _utf16(text: str) -> int:
    """The length of `text` in UTF-16 code units (how Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


BREAKS = ("\n", "。", "！", "？", "；")


def split_utf8(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, never inside a character, preferring a line or
    sentence end in the last third of a piece."""
    if limit < 4:
        raise ValueError("limit must hold at least one character")
    pieces: list[str] = []
    rest = text
    while len(rest.encode()) > limit:
        cut = len(rest.encode()[:limit].decode(errors="ignore"))
        window = rest[:cut]
        best = max(window.rfind(mark) for mark in BREAKS)
        if best >= cut * 2 // 3:
            cut = best + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def paginate(replies: list[Outgoing], max_bytes: int) -> tuple[list[Outgoing], list[str]]:
    """One reply within `max_bytes` (with the 更多 hint when cut) and the pages left over."""
    if not replies:
        return [], []
    joined = "\n\n".join(r.text for r in replies)
    urgent = any(r.urgent for r in replies)
    choices = replies[-1].choices
    if len(joined.encode()) <= max_bytes:
        return [Outgoing(joined, choices, urgent)], []
    hint = "\n" + texts.t("more.hint")
    pages = split_utf8(joined, max_bytes - len(hint.encode()))
    return [Outgoing(pages[0] + hint, (), urgent)], pages[1:]


def next_page(pages: list[str], max_bytes: int | None) -> tuple[Outgoing, list[str]]:
    """The next stored page (with the hint while more remain) and the pages after it."""
    page, rest = pages[0], pages[1:]
    if rest:
        page += "\n" + texts.t("more.hint")
    if max_bytes is not None and len(page.encode()) > max_bytes:
        first, *extra = split_utf8(page, max_bytes)
        return Outgoing(first), extra + rest
    return Outgoing(page), rest
