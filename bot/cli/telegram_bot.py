"""`fuqing telegram`: run the Telegram bot by long polling, or register its webhook."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.channels.setup import PushChannels
from bot.cli.startup import fail, load_settings, services_or_fail


def telegram_bot(
    webhook: Annotated[
        str | None,
        typer.Option(help="register this https URL (…/telegram) as the webhook instead, and exit"),
    ] = None,
) -> None:
    """Run the Telegram bot by long polling (Ctrl-C stops), or register its webhook."""
    import asyncio
    import signal

    from telegram.error import InvalidToken, TelegramError

    settings = load_settings()
    if not settings.telegram_token:
        fail("set FUQING_TELEGRAM_TOKEN (the token @BotFather gave the bot)")
        return
    if webhook and not settings.telegram_secret:
        fail("--webhook needs FUQING_TELEGRAM_SECRET: Telegram sends it with every update")
        return
    services = services_or_fail(settings)
    pushes = services.channels
    assert isinstance(pushes, PushChannels)  # what the app builds
    channel = pushes.telegram
    assert channel is not None

    async def run() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            if webhook:
                await channel.set_webhook(webhook)
                typer.echo(f"webhook set: Telegram posts updates to {webhook}")
            else:
                typer.echo("polling Telegram (Ctrl-C stops); `fuqing serve` sends the reminders")
                await channel.poll(stop)
        finally:
            await services.channels.aclose()

    try:
        asyncio.run(run())
    except InvalidToken:
        fail("Telegram rejected the bot token: check FUQING_TELEGRAM_TOKEN")
    except TelegramError as problem:
        fail(f"Telegram refused: {problem.message}")
    finally:
        services.db.dispose()
