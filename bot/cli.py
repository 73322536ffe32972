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
scheduler_app = typer.Typer(help="Reminders: run the scheduler, or one tick.")
app.add_typer(scheduler_app, name="scheduler")


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
    lines = [
        f"fuqing serving on {base}",
        f"  web chat: {base}/chat",
        f"  console:  {base}/console",
        f"  API docs: {base}/docs",
    ]
    if settings.effective_wechat_token:
        lines.append(f"  WeChat callback: {base}/wechat")
    typer.echo("\n".join(lines))
    # Open event streams of the web chat must not hold a shutdown for long.
    uvicorn.run(
        create_app(settings, services=services),
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=3,
    )


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
    from bot.demo import DEMO_PASSWORD, seed_demo
    from bot.messages import utcnow
    from storage import migrate
    from storage.db import Database

    settings = _settings()
    db = Database(settings.database_url)
    try:
        if migrate.pending_message(db) is not None:
            migrate.upgrade(db)
        with db.transaction() as session:
            result = seed_demo(session, now=utcnow(), staff=settings.env == "development")
    finally:
        db.dispose()
    typer.echo(
        f"demo ready: cadre invite code {result.invite_code} ({result.cadre_unit}); "
        f"send “绑定 {result.invite_code}” to become its cadre; "
        f"`fuqing chat --as cadre` talks as the demo cadre."
    )
    if result.staff:
        typer.echo(
            f"console logins (development only): {' / '.join(result.staff)}, "
            f"password {DEMO_PASSWORD} (city staff / 朝阳区 staff)"
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


@scheduler_app.callback(invoke_without_command=True)
def scheduler_loop(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option(help="seconds between ticks")] = 60.0,
) -> None:
    """Run the scheduler: a tick every minute (beside `fuqing serve` with FUQING_SCHEDULER=off)."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from bot.app import SchemaNotReady, build_services
    from scheduler.runner import Scheduler

    settings = _settings()
    try:
        services = build_services(settings)
    except (SchemaNotReady, ValueError) as problem:
        _fail(str(problem))
        return
    runner = Scheduler(settings=settings, db=services.db, dispatcher=services.channels.dispatcher)

    async def forever() -> None:
        runner.start(interval=interval)
        typer.echo(f"scheduler running: a tick every {interval:g} s (Ctrl-C stops)")
        try:
            await asyncio.Event().wait()
        finally:
            await runner.stop()
            await services.channels.aclose()

    try:
        asyncio.run(forever())
    except KeyboardInterrupt:
        pass
    finally:
        services.db.dispose()


@scheduler_app.command("tick")
def scheduler_tick(
    now: Annotated[
        str | None, typer.Option(help="as if at this moment, e.g. 2026-04-03T09:00+08:00")
    ] = None,
) -> None:
    """Run one tick (and one dispatch) as if at NOW; print what was queued and sent."""
    import asyncio

    from bot.app import SchemaNotReady, build_services
    from scheduler.runner import Scheduler

    settings = _settings()
    try:
        at = datetime.fromisoformat(now) if now else None
    except ValueError:
        _fail(f"--now must be an ISO date-time with its offset, got {now!r}")
        return
    if at is not None and at.tzinfo is None:
        _fail("--now needs an offset, e.g. 2026-04-03T09:00+08:00")
        return
    try:
        services = build_services(settings)
    except (SchemaNotReady, ValueError) as problem:
        _fail(str(problem))
        return
    if at is not None:
        services.channels.dispatcher.clock = lambda: at
    runner = Scheduler(settings=settings, db=services.db, dispatcher=services.channels.dispatcher)

    async def once() -> None:
        try:
            result = await runner.tick(at)
            typer.echo(
                f"tick at {result.at.isoformat()}: {len(result.enqueued)} queued, "
                f"{result.sent} sent" + ("" if result.active else " (another scheduler is active)")
            )
            for key in result.enqueued:
                typer.echo(f"  queued {key}")
        finally:
            await runner.stop()
            await services.channels.aclose()

    try:
        asyncio.run(once())
    finally:
        services.db.dispose()


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


@app.command()
def report(
    quarter: Annotated[str, typer.Argument(help="the quarter, e.g. 2026Q1")],
    unit: Annotated[str | None, typer.Option(help="one district-level unit, e.g. 朝阳区")] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="xlsx, docx or csv (docx needs --unit); default JSON"),
    ] = None,
    output: Annotated[str | None, typer.Option(help="file to write")] = None,
) -> None:
    """Print a quarter's summary as JSON, or write it as xlsx/docx/csv (2026Q1-朝阳区.docx)."""
    from pathlib import Path

    from bot.app import place_units_from_settings
    from bot.reporting.export import file_name, render
    from bot.reporting.figures import quarter_overview
    from scheduler.calendar import Quarter
    from storage import migrate, repo
    from storage.db import Database

    settings = _settings()
    logging.getLogger().setLevel(logging.WARNING)
    try:
        parsed = Quarter.parse(quarter)
    except ValueError as problem:
        _fail(str(problem))
        return
    if fmt not in (None, "xlsx", "docx", "csv"):
        _fail(f"--format takes xlsx, docx or csv, not {fmt!r}")
    if fmt == "docx" and not unit:
        _fail("a DOCX summary is made for one unit: add --unit, e.g. --unit 朝阳区")
    tz = ZoneInfo(settings.timezone)
    db = Database(settings.database_url)
    try:
        pending = migrate.pending_message(db)
        if pending is not None:
            _fail(pending)
        nlp = NLP.load(place_units_from_settings(settings), cache_dir=settings.data_dir / "jieba")
        with db.read() as session:
            units = repo.district_units(session)
            if unit:
                found = repo.find_district(session, name=unit)
                if found is None:
                    _fail(f"no district-level unit {unit!r}; use a name like 朝阳区")
                    return
                units = [found]
            summary = quarter_overview(
                session,
                quarter=parsed,
                units=units,
                nlp=nlp,
                tz=tz,
                due_days=settings.report_due_days,
                today=datetime.now(tz).date(),
            )
    finally:
        db.dispose()
    unit_name = summary["units"][0]["unit"] if unit else None
    if fmt is None:
        text = json.dumps(summary, ensure_ascii=False, indent=2)
        if output is None:
            typer.echo(text)
            return
        target = Path(output)
        target.write_text(text + "\n", encoding="utf-8")
    else:
        target = Path(output or file_name(str(parsed), unit_name, fmt))
        target.write_bytes(render(summary, fmt=fmt, unit=unit_name))
    typer.echo(f"written {target}")


@app.command("due-date")
def due_date_command(
    quarter: Annotated[str, typer.Argument(help="the quarter, e.g. 2026Q1")],
    day: Annotated[
        str | None, typer.Argument(metavar="[YYYY-MM-DD]", help="override the due date")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="remove the override")] = False,
    note: Annotated[str | None, typer.Option(help="why the date was moved")] = None,
) -> None:
    """Print a quarter's due date (and whether it is overridden); with a date, override it;
    --clear goes back to the calendar's date."""
    import re

    from bot.messages import utcnow
    from scheduler.calendar import Quarter, due_date
    from storage import migrate, repo
    from storage.db import Database

    settings = _settings()
    logging.getLogger().setLevel(logging.WARNING)
    try:
        parsed = Quarter.parse(quarter)
    except ValueError as problem:
        _fail(str(problem))
        return
    new: date | None = None
    if day is not None:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(day)
            new = date.fromisoformat(day)
        except ValueError:
            _fail(f"the due date must be YYYY-MM-DD, got {day!r}")
            return
    if clear and new is not None:
        _fail("give a date or --clear, not both")
    if note is not None and new is None:
        _fail("--note goes with a new date")
    if note is not None and len(note) > 255:
        _fail("--note takes at most 255 characters")
    db = Database(settings.database_url)
    try:
        pending = migrate.pending_message(db)
        if pending is not None:
            _fail(pending)
        if new is not None or clear:
            with db.transaction() as session:
                repo.set_due_date(session, quarter=str(parsed), due=new, note=note, now=utcnow())
        with db.read() as session:
            overrides = repo.due_date_overrides(session)
    finally:
        db.dispose()
    effective = due_date(parsed, days=settings.report_due_days, overrides=overrides)
    if str(parsed) in overrides:
        how = f"overridden{': ' + note if note else ''}; `--clear` restores the calendar's date"
    else:
        how = (
            f"not overridden: {settings.report_due_days} days after the quarter ends, "
            "on the next working day"
        )
    typer.echo(f"{parsed} due {effective.isoformat()} ({how})")


staff_app = typer.Typer(help="Console staff accounts.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="the login name")],
    unit: Annotated[str, typer.Option(help="her unit: 北京市 (sees all) or e.g. 朝阳区")],
    password: Annotated[str, typer.Option(help="at least 8 characters")],
) -> None:
    """Create a console account bound to UNIT (the city's staff see every district)."""
    from bot.actions import unit_label
    from bot.console.auth import MIN_PASSWORD, hash_password
    from bot.messages import utcnow
    from storage import migrate, repo
    from storage.db import Database

    settings = _settings()
    name = username.strip()
    if not name or len(name) > 64:
        _fail("the username takes 1 to 64 characters")
    if len(password) < MIN_PASSWORD:
        _fail(f"the password needs at least {MIN_PASSWORD} characters")
    db = Database(settings.database_url)
    try:
        pending = migrate.pending_message(db)
        if pending is not None:
            _fail(pending)
        with db.transaction() as session:
            found = repo.unit_by_path(session, path=unit)
            if found is None:
                _fail(
                    f"no org unit {unit!r}; use 北京市, a district like 朝阳区 or 朝阳区/双井街道"
                )
                return
            if repo.staff_by_username(session, username=name) is not None:
                _fail(f"the username {name!r} is taken")
            repo.create_staff(
                session,
                username=name,
                password_hash=hash_password(password),
                unit=found,
                now=utcnow(),
            )
            label, path = unit_label(found), found.path
    finally:
        db.dispose()
    typer.echo(f"staff account {name!r} created: {label} ({path}); log in at /console/login")


@staff_app.command("list")
def staff_list() -> None:
    """Print every console account with its unit and last login."""
    from storage import migrate, repo
    from storage.db import Database

    settings = _settings()
    tz = ZoneInfo(settings.timezone)
    db = Database(settings.database_url)
    try:
        pending = migrate.pending_message(db)
        if pending is not None:
            _fail(pending)
        with db.read() as session:
            rows = repo.list_staff(session)
            lines = [
                f"{staff.username}\t{unit.path}\t"
                + ("active" if staff.active else "inactive")
                + "\tlast login "
                + (
                    repo.as_utc(staff.last_login_at).astimezone(tz).strftime("%Y-%m-%d %H:%M")
                    if staff.last_login_at
                    else "never"
                )
                for staff, unit in rows
            ]
    finally:
        db.dispose()
    typer.echo("\n".join(lines) if lines else "no staff accounts: `fuqing staff add` creates one")


@app.command("telegram")
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

    from bot.app import SchemaNotReady, build_services

    settings = _settings()
    if not settings.telegram_token:
        _fail("set FUQING_TELEGRAM_TOKEN (the token @BotFather gave the bot)")
        return
    if webhook and not settings.telegram_secret:
        _fail("--webhook needs FUQING_TELEGRAM_SECRET: Telegram sends it with every update")
        return
    try:
        services = build_services(settings)
    except (SchemaNotReady, ValueError) as problem:
        _fail(str(problem))
        return
    channel = services.channels.telegram
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
        _fail("Telegram rejected the bot token: check FUQING_TELEGRAM_TOKEN")
    except TelegramError as problem:
        _fail(f"Telegram refused: {problem.message}")
    finally:
        services.db.dispose()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
