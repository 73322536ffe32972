"""Fit replies into a channel's size limit: one text, split in pages, the rest behind 更多.

WeChat's passive reply carries one text of at most 2048 bytes. A channel with such a limit asks
the engine for `max_bytes`; the engine joins the bubbles, keeps the first page, and stores the
others in the dialogue so that `更多` shows the next one.
"""

from __future__ import annotations

from bot import texts
from bot.messages import Outgoing

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
