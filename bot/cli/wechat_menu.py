"""`fuqing wechat-menu`: print the Official Account's custom menu, or install it (--push)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.startup import fail, load_settings


def wechat_menu(
    push: Annotated[bool, typer.Option(help="install it through the WeChat API")] = False,
) -> None:
    """Print the Official Account's custom-menu JSON; with --push, install it."""
    import asyncio

    from bot.channels.wechat.api import OfficialAccountClient, WeChatApiError
    from bot.channels.wechat.menu import menu

    definition = menu()
    typer.echo(json.dumps(definition, ensure_ascii=False, indent=2))
    if not push:
        return
    settings = load_settings()
    if not (settings.wechat_appid and settings.wechat_secret):
        fail("--push needs FUQING_WECHAT_APPID and FUQING_WECHAT_SECRET")
        return

    async def install() -> None:
        client = OfficialAccountClient(
            base_url=settings.wechat_api_base,
            appid=settings.wechat_appid or "",
            secret=settings.wechat_secret or "",
        )
        try:
            await client.create_menu(definition)
        finally:
            await client.aclose()

    try:
        asyncio.run(install())
    except WeChatApiError as problem:
        fail(f"the menu was not installed: {problem}")
        return
    typer.echo("menu installed")
