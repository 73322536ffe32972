"""The `fuqing` command line (Typer): serve, chat, nlp, db upgrade, demo, invite.

Settings are built here once from the environment and passed down.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from bot.config import Settings
from bot.nlp import NLP, PiiMaskingFilter

app = typer.Typer(help="妇情通 fuqing: the federation's chat assistant.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema and seed.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def setup_logging(settings: Settings) -> None:
    """Log to stderr; every record passes the PII mask (phones, ID numbers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PiiMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def _settings() -> Settings:
    settings = Settings()
    setup_logging(settings)
    return settings


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the schema to the newest revision and seed the org tree when it is empty."""
    from storage import migrate
    from storage.db import Database

    settings = _settings()
    db = Database(settings.database_url)
    try:
        added = migrate.upgrade(db)
    finally:
        db.dispose()
    typer.echo(f"database at revision {migrate.head_revision()}; org units added: {added}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
) -> None:
    """Serve the HTTP API (and channels) with uvicorn."""
    import uvicorn

    from bot.app import SchemaNotReady, build_services, create_app

    settings = _settings()
    try:
        services = build_services(settings)
    except (SchemaNotReady, ValueError) as problem:
        _fail(str(problem))
        return
    base = f"http://{host}:{port}"
    typer.echo(f"fuqing serving on {base}  (API docs: {base}/docs)")
    uvicorn.run(create_app(settings, services=services), host=host, port=port, log_config=None)


@app.command()
def chat(
    as_: Annotated[
        str, typer.Option("--as", help="resident or cadre (the demo cadre)")
    ] = "resident",
    user: Annotated[str, typer.Option(help="terminal user id")] = "terminal-user",
) -> None:
    """Talk to the assistant in the terminal (`--as cadre` to report visits as the demo cadre)."""
    from bot.app import SchemaNotReady, build_services
    from bot.channels.terminal import run_chat
    from bot.demo import TERMINAL_CADRE, demo_cadre

    settings = _settings()
    logging.getLogger().setLevel(logging.WARNING)
    try:
        services = build_services(settings)
    except (SchemaNotReady, ValueError) as problem:
        _fail(str(problem))
        return
    if as_ == "cadre":
        with services.db.transaction() as session:
            demo_cadre(session, now=services.engine.clock())
        user = TERMINAL_CADRE
        typer.echo("以演示干部（朝阳区双井街道）身份对话。")
    elif as_ != "resident":
        _fail("--as takes resident or cadre")
    try:
        run_chat(services.engine, user=user)
    finally:
        services.db.dispose()


@app.command()
def nlp(
    text: Annotated[str | None, typer.Argument(help="one text; omit with --jsonl")] = None,
    ref: Annotated[
        str | None, typer.Option(help="reference date YYYY-MM-DD (default today)")
    ] = None,
    jsonl: Annotated[bool, typer.Option(help='read JSON lines {"text", "ref"?} on stdin')] = False,
) -> None:
    """Analyse text as TAXONOMY.md specifies: one JSON object per text."""
    from bot.app import place_units_from_settings

    settings = _settings()
    logging.getLogger().setLevel(logging.WARNING)
    try:
        default_ref = (
            date.fromisoformat(ref) if ref else datetime.now(ZoneInfo(settings.timezone)).date()
        )
    except ValueError:
        _fail(f"--ref must be YYYY-MM-DD, got {ref!r}")
        return
    analyzer = NLP.load(place_units_from_settings(settings), cache_dir=settings.data_dir / "jieba")
    if not jsonl:
        if text is None:
            _fail("give a text, or --jsonl to read JSON lines from stdin")
            return
        typer.echo(json.dumps(analyzer.analyze(text, default_ref).to_json(), ensure_ascii=False))
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            line_ref = date.fromisoformat(item["ref"]) if item.get("ref") else default_ref
            result = analyzer.analyze(str(item["text"]), line_ref).to_json()
        except (ValueError, KeyError, TypeError, AttributeError) as problem:
            typer.echo(f"line {number}: {problem!r}", err=True)
            result = {"error": f"line {number}: not a JSON object with a text"}
        typer.echo(json.dumps(result, ensure_ascii=False))


@app.command()
def demo() -> None:
    """Seed the demo: a cadre for `fuqing chat --as cadre`, an invite code, sample data."""
    from bot.demo import seed_demo
    from bot.messages import utcnow
    from storage import migrate
    from storage.db import Database

    settings = _settings()
    db = Database(settings.database_url)
    try:
        if migrate.pending_message(db) is not None:
            migrate.upgrade(db)
        with db.transaction() as session:
            result = seed_demo(session, now=utcnow())
    finally:
        db.dispose()
    typer.echo(
        f"demo ready: cadre invite code {result.invite_code} ({result.cadre_unit}); "
        f"send “绑定 {result.invite_code}” to become its cadre; "
        f"`fuqing chat --as cadre` talks as the demo cadre."
    )


@app.command()
def invite(
    unit: Annotated[str, typer.Argument(help="unit path, e.g. 朝阳区/双井街道")],
    name: Annotated[str, typer.Argument(help="the cadre's name")],
) -> None:
    """Create an invite code that binds a cadre to UNIT (she sends “绑定 <code>”)."""
    from bot.messages import utcnow
    from storage import repo
    from storage.db import Database

    settings = _settings()
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            found = repo.unit_by_path(session, path=unit)
            if found is None:
                _fail(f"no org unit {unit!r}; use a path like 朝阳区/双井街道")
                return
            code = repo.create_invite(session, unit=found, name=name, now=utcnow()).code
    finally:
        db.dispose()
    typer.echo(code)


@app.command("wechat-menu")
def wechat_menu(
    push: Annotated[bool, typer.Option(help="install it through the WeChat API")] = False,
) -> None:
    """Print the Official Account's custom-menu JSON; with --push, install it."""
    import asyncio

    from bot.channels.wechat_api import OfficialAccountClient, WeChatApiError
    from bot.channels.wechat_menu import menu

    definition = menu()
    typer.echo(json.dumps(definition, ensure_ascii=False, indent=2))
    if not push:
        return
    settings = _settings()
    if not (settings.wechat_appid and settings.wechat_secret):
        _fail("--push needs FUQING_WECHAT_APPID and FUQING_WECHAT_SECRET")
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
        _fail(f"the menu was not installed: {problem}")
        return
    typer.echo("menu installed")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
