"""The `fuqing` command line (Typer): serve, chat, nlp (and nlp train), db upgrade, demo, invite,
scheduler, wechat-menu, report, due-date, staff, telegram, rotate-key.

This is the command table; each command lives in a module named for what it does. Settings are
built once from the environment (`bot.cli.startup`) and passed down.
"""

from __future__ import annotations

import typer

from bot.cli import (
    database,
    learning,
    privacy,
    reports,
    scheduling,
    serving,
    staff,
    telegram_bot,
    wechat_menu,
)

app = typer.Typer(help="妇情通 fuqing: the federation's chat assistant.", no_args_is_help=True)
app.add_typer(database.db_app, name="db")
app.add_typer(scheduling.scheduler_app, name="scheduler")
app.command()(serving.serve)
app.command()(serving.chat)
app.add_typer(learning.nlp_app, name="nlp")  # analysis.nlp_app, with `train` added
app.command()(serving.demo)
app.command()(serving.invite)
app.command("wechat-menu")(wechat_menu.wechat_menu)
app.command()(reports.report)
app.command("due-date")(reports.due_date_command)
app.add_typer(staff.staff_app, name="staff")
app.command("telegram")(telegram_bot.telegram_bot)
app.command("rotate-key")(privacy.rotate_key)


def main() -> None:
    """Console-script entry point."""
    app()
