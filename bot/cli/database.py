"""`fuqing db`: the database schema and its seed."""

from __future__ import annotations

import typer

from bot.cli.startup import load_settings

db_app = typer.Typer(help="Database schema and seed.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the schema to the newest revision and seed the org tree when it is empty."""
    from storage import migrate
    from storage.db import Database

    settings = load_settings()
    db = Database(settings.database_url)
    try:
        added = migrate.upgrade(db)
    finally:
        db.dispose()
    typer.echo(f"database at revision {migrate.head_revision()}; org units added: {added}")
