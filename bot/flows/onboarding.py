"""绑定: a cadre binds her account to an org unit with an invite code.

code → summary (unit and name) → bound. `绑定 <邀请码>` answers the code question at
once. A resident's first contact gets the greeting and privacy notice from the engine (no flow
needed). Diagram: onboarding.mmd.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot import texts
from bot.actions import Effects, unit_label
from bot.flows.base import Ctx, FlowRun, FlowSpec, Invalid, labelled
from bot.flows.runner import Flow, Start, Turn
from bot.messages import Outgoing
from bot.nlp.words import pattern, words
from storage import repo

CODE_PATTERN = re.compile(r"[A-Za-z0-9]{6,12}")
WORDS = words("onboarding", "entry")


def parse_code(text: str, ctx: Ctx, slots: Mapping[str, Any]) -> dict[str, str]:
    """An unused invite code; the value keeps the unit and name it grants."""
    match = CODE_PATTERN.search(text)
    if match is None or ctx.invites is None:
        raise Invalid("bind.code_invalid")
    invite = ctx.invites(match.group(0).upper())
    if invite is None:
        raise Invalid("bind.code_invalid")
    if invite.used:
        raise Invalid("bind.code_used")
    return {"code": invite.code, "unit": invite.unit, "name": invite.name}


def show_code(value: Any) -> str:
    """'ABCD2345（朝阳区双井街道 张三）'."""
    if not value:
        return texts.t("value.none")
    return texts.t("bind.code_value", code=value["code"], unit=value["unit"], name=value["name"])


SPEC = FlowSpec(
    name="onboarding",
    title=texts.t("bind.title"),
    slots=(labelled("onboarding", "code", "bind.code", parse_code, show=show_code),),
)


def finish(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The onboarding flow was confirmed: redeem the invite (if still unused) and bind her."""
    code = str(run.slots["code"]["code"])
    invite = repo.find_invite(fx.session, code=code)
    if invite is None or invite.used_at is not None:
        return [Outgoing(texts.t("bind.code_used"))]
    unit = repo.redeem_invite(fx.session, invite=invite, user=fx.user, now=fx.now)
    return [Outgoing(texts.t("bind.done", unit=unit_label(unit), name=invite.name))]


def start(begin: Start) -> Turn:
    """Ask for the code; `绑定 <code>` answers it at once."""
    turn = begin.runner.start(begin.ctx, prefill=begin.prefill, meta=begin.meta)
    if begin.ctx.text.replace(" ", "") not in WORDS:
        turn = begin.runner.answer(turn.run, turn.state, begin.ctx)
    return turn


FLOW = Flow(
    spec=SPEC,
    words=WORDS,
    finish=finish,
    who="resident",
    refusal="bind.already",
    pattern=pattern("onboarding"),
    start=start,
)
