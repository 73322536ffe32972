"""`fuqing scheduler`: run the reminders' scheduler, or one tick as if at a given moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from bot.cli.startup import fail, load_settings, services_or_fail
from bot.messages import utcnow
from storage.heartbeat import DEFAULT_MAX_AGE, heartbeat_path, last_beat
from storage.heartbeat import check as heartbeat_check

scheduler_app = typer.Typer(help="Reminders: run the scheduler, or one tick.")


@scheduler_app.callback(invoke_without_command=True)
def scheduler_loop(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option(help="seconds between ticks")] = 60.0,
    check: Annotated[
        bool, typer.Option("--check", help="exit 1 unless a tick completed within --max-age")
    ] = False,
    max_age: Annotated[
        float, typer.Option(help="seconds the last tick may be old, with --check")
    ] = DEFAULT_MAX_AGE.total_seconds(),
) -> None:
    """Run the scheduler: a tick every minute (beside `fuqing serve` with FUQING_SCHEDULER=off);
    `--check` is its health check (the heartbeat file in FUQING_DATA_DIR)."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from scheduler.runner import Scheduler

    settings = load_settings()
    if check:
        path = heartbeat_path(settings.data_dir)
        problem = heartbeat_check(path, now=utcnow(), max_age=timedelta(seconds=max_age))
        if problem is not None:
            fail(problem)
        typer.echo(f"scheduler healthy: last tick {last_beat(path)}")
        return
    services = services_or_fail(settings)
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

    from scheduler.runner import Scheduler

    settings = load_settings()
    try:
        at = datetime.fromisoformat(now) if now else None
    except ValueError:
        fail(f"--now must be an ISO date-time with its offset, got {now!r}")
        return
    if at is not None and at.tzinfo is None:
        fail("--now needs an offset, e.g. 2026-04-03T09:00+08:00")
        return
    services = services_or_fail(settings)
    if at is not None:
        services.channels.dispatcher.clock = lambda: at
    runner = Scheduler(settings=settings, db=services.db, dispatcher=services.channels.dispatcher)

    async def once() -> None:
        try:
            result = await runner.tick(at)
            typer.echo(
                f"tick at {result.at.isoformat()}: {len(result.enqueued)} queued, "
                f"{result.cleared} idle dialogues cleared, {result.sent} sent"
                + ("" if result.active else " (another scheduler is active)")
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
