"""`fuqing chat`: a conversation in the terminal, on the same engine (channel `terminal`)."""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.engine import Engine, ServiceUnavailable
from bot.messages import Incoming, Outgoing
from bot.paging import ChannelProfile, fit

CHANNEL = "terminal"
PROFILE = ChannelProfile()  # no length limit; choices are listed as [1] label


def render(replies: list[Outgoing]) -> str:
    """Replies as terminal text: one block per bubble, choices as [1] label."""
    blocks = []
    for reply in fit(replies, PROFILE):
        text = reply.text
        if reply.choices and not any(
            f"1. {reply.choices[0]}" in line for line in text.splitlines()
        ):
            text += "\n" + "  ".join(f"[{i}] {c}" for i, c in enumerate(reply.choices, 1))
        blocks.append(texts.t("terminal.bot") + text.replace("\n", "\n        "))
    return "\n".join(blocks)


def run_chat(
    engine: Engine,
    *,
    user: str,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> None:
    """Read lines until EOF or `exit`; print the bot's replies and anything pushed meanwhile."""
    write(texts.t("terminal.banner"))
    while True:
        try:
            line = read(texts.t("terminal.prompt"))
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        if line.strip().lower() in ("exit", "quit"):
            return
        try:
            replies = engine.handle_sync(Incoming(channel=CHANNEL, user=user, text=line))
        except ServiceUnavailable:  # the database is down: she may say it again in a moment
            write(render([Outgoing(texts.t("apology"))]))
            continue
        write(render(replies))
        pushed = engine.pull(channel=CHANNEL, user=user)
        if pushed:
            write(render([Outgoing(texts.t("push.mark") + p.text) for p in pushed]))
