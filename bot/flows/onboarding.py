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
from bot.flows.base import Ctx, FlowSpec, Invalid, Slot

CODE_PATTERN = re.compile(r"[A-Za-z0-9]{6,12}")


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
    return f"{value['code']}（{value['unit']} {value['name']}）"


SPEC = FlowSpec(
    name="onboarding",
    title=texts.t("bind.title"),
    slots=(Slot("code", "邀请码", "bind.code", parse_code, show=show_code, aliases=("码",)),),
)
