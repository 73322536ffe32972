"""`fuqing staff`: the console's staff accounts (add one, list them)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from bot.cli.startup import fail, load_settings, migrated_database

staff_app = typer.Typer(help="Console staff accounts.", no_args_is_help=True)


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
    from storage import repo

    settings = load_settings()
    name = username.strip()
    if not name or len(name) > 64:
        fail("the username takes 1 to 64 characters")
    if len(password) < MIN_PASSWORD:
        fail(f"the password needs at least {MIN_PASSWORD} characters")
    with migrated_database(settings) as db, db.transaction() as session:
        found = repo.unit_by_path(session, path=unit)
        if found is None:
            fail(f"no org unit {unit!r}; use 北京市, a district like 朝阳区 or 朝阳区/双井街道")
            return
        if repo.staff_by_username(session, username=name) is not None:
            fail(f"the username {name!r} is taken")
        repo.create_staff(
            session,
            username=name,
            password_hash=hash_password(password),
            unit=found,
            now=utcnow(),
        )
        label, path = unit_label(found), found.path
    typer.echo(f"staff account {name!r} created: {label} ({path}); log in at /console/login")


@staff_app.command("list")
def staff_list() -> None:
    """Print every console account with its unit and last login."""
    from storage import repo

    settings = load_settings()
    tz = ZoneInfo(settings.timezone)
    with migrated_database(settings) as db, db.read() as session:
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
    typer.echo("\n".join(lines) if lines else "no staff accounts: `fuqing staff add` creates one")
