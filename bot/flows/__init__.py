"""The chat flows, one module each, and their registry `FLOWS`.

Each flow module declares its `FLOW` (`bot.flows.runner.Flow`): its spec (slots and prompts),
entry words, who may start it, its menu entry, and what happens on start and on finish. The
commands, the conversation, the engine and the diagrams read them from here; nothing else names
a flow. The order is the routing order of free text at idle (a cadre's visit note before a need).
"""

from __future__ import annotations

from bot.flows import help_request, onboarding, quarterly, visit_report
from bot.flows.runner import Flow

FLOWS: tuple[Flow, ...] = (visit_report.FLOW, help_request.FLOW, onboarding.FLOW, quarterly.FLOW)
BY_NAME: dict[str, Flow] = {flow.name: flow for flow in FLOWS}
