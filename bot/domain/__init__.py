"""The business rules, each in one home: the help-request lifecycle, routing, org units,
quarters and due dates, quarterly figures, reviews, contact points and the dialogue's modes.

Modules here take plain arguments and raise `bot.domain.errors.DomainError`; they never import
FastAPI, the console, a channel, the engine or a chat flow. Chat flows, console pages, REST
routes, the CLI and the scheduler call them (docs/architecture.md draws the layers).
"""
