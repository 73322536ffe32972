"""Telegram: `channel` (inbound, outbound, set-up), `convert` (updates and replies, the
channel's `PROFILE`), `transport` (the Bot API client), `webhook` (the route) and `polling`.

Nothing is imported here: python-telegram-bot loads only when a bot is configured.
"""
