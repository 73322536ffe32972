"""`fuqing staff`: the console's staff accounts (add one, list them, put one on duty).

An account on duty gets every urgent case at once: in the console, and in chat when it is linked
to a chat identity (`--chat CHANNEL:ID`, an address that has written to the bot) — a console
account is not a chat user by itself, so the link names the chat user that stands for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo

import typer

from bot.cli.startup import fail, load_settings, migrated_database

if TYPE_CHECKING:
    from sqlmodel import Session

staff_app = typer.Typer(help="Console staff accounts.", no_args_is_help=True)
CHAT_HELP = "her chat address, CHANNEL:ID (e.g. wecom:zhangsan), which has written to the bot"


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="the login name")],
    unit: Annotated[str, typer.Option(help="her unit: 北京市 (sees all) or e.g. 朝阳区")],
    password: Annotated[str, typer.Option(help="at least 8 characters")],
    duty: Annotated[bool, typer.Option(help="on duty: every urgent case reaches her")] = False,
    chat: Annotated[str | None, typer.Option(help=CHAT_HELP)] = None,
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
        user_id = _chat_user(session, chat)
        staff = repo.create_staff(
            session,
            username=name,
            password_hash=hash_password(password),
            unit=found,
            now=utcnow(),
        )
        if duty or user_id is not None:
            repo.set_duty(session, staff=staff, on_duty=duty, user_id=user_id)
        label, path = unit_label(found), found.path
    typer.echo(
        f"staff account {name!r} created: {label} ({path}); log in at /console/login"
        + ("; on duty" if duty else "")
    )


@staff_app.command("duty")
def staff_duty(
    username: Annotated[str, typer.Argument(help="the login name")],
    state: Annotated[Literal["on", "off"], typer.Argument(help="on or off duty")],
    chat: Annotated[str | None, typer.Option(help=CHAT_HELP)] = None,
) -> None:
    """Put an account on duty (every urgent case reaches her at once) or off it."""
    from storage import repo

    settings = load_settings()
    with migrated_database(settings) as db, db.transaction() as session:
        staff = repo.staff_by_username(session, username=username.strip())
        if staff is None:
            fail(f"no staff account {username!r}")
            return
        user_id = _chat_user(session, chat)
        repo.set_duty(session, staff=staff, on_duty=state == "on", user_id=user_id)
        linked = staff.user_id is not None
    where = "the console and chat" if linked else "the console (no chat link: --chat)"
    typer.echo(f"{username!r} is {state} duty; urgent cases reach her in {where}")


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
            + ("\ton duty" if staff.on_duty else "\toff duty")
            + (" (chat linked)" if staff.user_id is not None else "")
            for staff, unit in rows
        ]
    typer.echo("\n".join(lines) if lines else "no staff accounts: `fuqing staff add` creates one")


def _chat_user(session: Session, chat: str | None) -> int | None:
    """The user id of the chat address `CHANNEL:ID` (None when not given; fails when unknown)."""
    from storage import repo

    if chat is None:
        return None
    channel, _, external_id = chat.partition(":")
    identity = repo.identity_of(session, channel=channel.strip(), external_id=external_id.strip())
    if identity is None:
        fail(f"no chat user {chat!r}: she must write to the bot once on that channel first")
        return None
    return identity.user_id
