"""`fuqing report` and `fuqing due-date`: a quarter's summary as JSON or a file, and the
quarter's due date (shown, overridden, or back to the calendar's)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from bot.cli.startup import fail, load_settings, migrated_database
from bot.domain.quarters import Quarter
from bot.nlp import NLP


def _quarter(text: str) -> Quarter:
    """The quarter named `text` (2026Q1), or exit 1 saying why not."""
    try:
        return Quarter.parse(text)
    except ValueError as problem:
        fail(str(problem))


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
    from bot.domain.deadlines import Limits
    from bot.reporting.figures import quarter_overview
    from bot.reporting.files import file_name, render
    from storage import repo

    settings = load_settings()
    logging.getLogger().setLevel(logging.WARNING)
    parsed = _quarter(quarter)
    if fmt not in (None, "xlsx", "docx", "csv"):
        fail(f"--format takes xlsx, docx or csv, not {fmt!r}")
    if fmt == "docx" and not unit:
        fail("a DOCX summary is made for one unit: add --unit, e.g. --unit 朝阳区")
    tz = ZoneInfo(settings.timezone)
    with migrated_database(settings) as db:
        nlp = NLP.load(
            place_units_from_settings(settings),
            cache_dir=settings.data_dir / "jieba",
            model_dir=settings.trained_model_dir,
        )
        with db.read() as session:
            units = repo.district_units(session)
            if unit:
                found = repo.find_summary_unit(session, name=unit)
                if found is None:
                    fail(f"no district-level unit {unit!r}; use a name like 朝阳区, or 北京市")
                    return
                units = [found]
            summary = quarter_overview(
                session,
                quarter=parsed,
                units=units,
                nlp=nlp,
                tz=tz,
                due_days=settings.report_due_days,
                now=datetime.now(tz),
                answer_within=Limits.of(settings, tz).answer_within,
            )
    unit_name = summary.units[0].unit if unit else None
    if fmt is None:
        text = json.dumps(summary.to_json(), ensure_ascii=False, indent=2)
        if output is None:
            typer.echo(text)
            return
        target = Path(output)
        content = (text + "\n").encode("utf-8")
    else:
        target = Path(output or file_name(str(parsed), unit_name, fmt))
        content = render(summary, fmt=fmt, unit=unit_name, now=datetime.now(tz))
    try:
        target.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    typer.echo(f"written {target}")


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

    from bot.domain.quarters import due_date
    from bot.messages import utcnow
    from storage import repo

    settings = load_settings()
    logging.getLogger().setLevel(logging.WARNING)
    parsed = _quarter(quarter)
    new: date | None = None
    if day is not None:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(day)
            new = date.fromisoformat(day)
        except ValueError:
            fail(f"the due date must be YYYY-MM-DD, got {day!r}")
            return
    if clear and new is not None:
        fail("give a date or --clear, not both")
    if note is not None and new is None:
        fail("--note goes with a new date")
    if note is not None and len(note) > 255:
        fail("--note takes at most 255 characters")
    with migrated_database(settings) as db:
        if new is not None or clear:
            with db.transaction() as session:
                repo.set_due_date(session, quarter=str(parsed), due=new, note=note, now=utcnow())
        with db.read() as session:
            overrides = repo.due_date_overrides(session)
    effective = due_date(parsed, days=settings.report_due_days, overrides=overrides)
    if str(parsed) in overrides:
        how = f"overridden{': ' + note if note else ''}; `--clear` restores the calendar's date"
    else:
        how = (
            f"not overridden: {settings.report_due_days} days after the quarter ends, "
            "on the next working day"
        )
    typer.echo(f"{parsed} due {effective.isoformat()} ({how})")
