"""`fuqing serve`, `chat`, `demo` and `invite`: serve the app, talk in the terminal, seed the
demo, and make a cadre's invite code."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from bot import texts
from bot.cli.startup import fail, load_settings, migrated_database, services_or_fail
from bot.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="worker processes (more than 1 needs PostgreSQL)")
    ] = 1,
) -> None:
    """Serve the HTTP API (and channels) with uvicorn."""
    import uvicorn

    from bot.app import create_app
    from bot.runtime import interpreter_warning, uvicorn_options

    settings = load_settings()
    outdated = interpreter_warning()
    if outdated is not None:
        logging.getLogger(__name__).warning(outdated)
    if workers > 1:
        _check_for_workers(settings, workers)
    else:
        services = services_or_fail(settings)
    base = f"http://{host}:{port}"
    lines = [
        f"fuqing serving on {base}" + (f" with {workers} workers" if workers > 1 else ""),
        f"  web chat: {base}/chat",
        f"  console:  {base}/console",
    ]
    if settings.api_docs_enabled:
        lines.append(f"  API docs: {base}/docs")
    if settings.effective_wechat_token:
        lines.append(f"  WeChat callback: {base}/wechat")
    typer.echo("\n".join(lines))
    options = uvicorn_options(settings)
    if workers > 1:  # each worker process imports the factory and builds its own services
        with _shared_metrics_directory():
            uvicorn.run(
                f"{__name__}:worker_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                **options,
            )
        return
    uvicorn.run(create_app(settings, services=services), host=host, port=port, **options)


@contextmanager
def _shared_metrics_directory() -> Iterator[None]:
    """A fresh directory for the workers' metric files, named in PROMETHEUS_MULTIPROC_DIR for
    the worker processes (prometheus_client reads it there), removed afterwards."""
    directory = tempfile.mkdtemp(prefix="fuqing-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(directory, ignore_errors=True)


def _check_for_workers(settings: Settings, workers: int) -> None:
    """Refuse several workers on SQLite, placeholder or weak secrets, a schema behind the code
    and, in production, what `bot.production` refuses (the same checks as each worker's)."""
    from bot.production import UnsafeDeployment, check_database
    from storage import migrate
    from storage.db import Database

    if settings.is_sqlite:
        fail(
            f"--workers {workers} needs PostgreSQL (FUQING_DATABASE_URL=postgresql+psycopg://…): "
            "SQLite has one writer at a time, so more workers only queue; serve one worker."
        )
    try:
        settings.check_secrets()
    except ValueError as problem:
        fail(str(problem))
    db = Database(settings.database_url)
    try:
        pending = migrate.pending_message(db)
        if pending is None:
            check_database(settings, db)
    except UnsafeDeployment as problem:
        fail(str(problem))
    finally:
        db.dispose()
    if pending is not None:
        fail(pending)
    if settings.scheduler == "on":
        logging.getLogger(__name__).warning(
            "FUQING_SCHEDULER=on with %d workers: each runs a scheduler and one is active (the "
            "advisory lock); set FUQING_SCHEDULER=off and run `fuqing scheduler` beside them",
            workers,
        )


def worker_app() -> FastAPI:
    """The app of one worker of `fuqing serve --workers N` (uvicorn's factory, in the worker
    process): settings and logging from the environment, services built at start-up."""
    from bot.app import create_app

    return create_app(load_settings(), multiprocess_metrics=True)


def chat(
    as_: Annotated[
        str, typer.Option("--as", help="resident or cadre (the demo cadre)")
    ] = "resident",
    user: Annotated[str, typer.Option(help="terminal user id")] = "terminal-user",
) -> None:
    """Talk to the assistant in the terminal (`--as cadre` to report visits as the demo cadre)."""
    from bot.channels.terminal import run_chat
    from bot.demo import TERMINAL_CADRE, demo_cadre

    settings = load_settings()
    logging.getLogger().setLevel(logging.WARNING)
    services = services_or_fail(settings)
    if as_ == "cadre":
        with services.db.transaction() as session:
            demo_cadre(session, now=services.engine.clock())
        user = TERMINAL_CADRE
        typer.echo(texts.t("terminal.as_cadre"))
    elif as_ != "resident":
        fail("--as takes resident or cadre")
    try:
        run_chat(services.engine, user=user)
    finally:
        services.db.dispose()


def demo(
    remove: Annotated[
        bool,
        typer.Option(
            "--remove",
            help="remove the demo's console logins (while they take the demo password) and its "
            "unused invite code, as production requires",
        ),
    ] = False,
) -> None:
    """Seed the demo: a cadre for `fuqing chat --as cadre`, an invite code, sample data; or
    `--remove` what production refuses to start with."""
    from bot.demo import DEMO_INVITE, DEMO_PASSWORD, remove_demo_leftovers, seed_demo
    from bot.messages import utcnow
    from storage import migrate
    from storage.db import Database

    settings = load_settings()
    if remove:
        with migrated_database(settings) as db, db.transaction() as session:
            removed = remove_demo_leftovers(session)
        typer.echo("removed: " + ", ".join(removed) if removed else "no demo logins or invite left")
        return
    if settings.env == "production":
        fail(
            "fuqing demo does not run with FUQING_ENV=production: it seeds sample data and the "
            f"public invite code {DEMO_INVITE}. Make cadres' invites with `fuqing invite` and "
            "staff accounts with `fuqing staff add`."
        )
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


def invite(
    unit: Annotated[str, typer.Argument(help="unit path, e.g. 朝阳区/双井街道")],
    name: Annotated[str, typer.Argument(help="the cadre's name")],
) -> None:
    """Create an invite code that binds a cadre to UNIT (she sends “绑定 <code>”)."""
    from bot.console.api import INVITE_NAME_MAX
    from bot.messages import utcnow
    from storage import repo

    settings = load_settings()
    name = name.strip()
    if not 1 <= len(name) <= INVITE_NAME_MAX:
        fail(f"the name takes 1 to {INVITE_NAME_MAX} characters")
    with migrated_database(settings) as db, db.transaction() as session:
        found = repo.unit_by_path(session, path=unit)
        if found is None:
            fail(f"no org unit {unit!r}; use a path like 朝阳区/双井街道")
        code = repo.create_invite(session, unit=found, name=name, now=utcnow()).code
    typer.echo(code)
