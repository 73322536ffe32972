"""Alembic environment: migrate the database described by `storage.models`.

`storage.migrate` builds the Alembic config in code and hands over an open connection through
`config.attributes["connection"]`; the Alembic CLI (`alembic -c storage/alembic.ini …`, for
writing new revisions) connects itself: to FUQING_DATABASE_URL when it is set, else to the URL of
the config, with the field key from FUQING_SECRET_KEY (migration 0004 encrypts existing rows).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.config import Settings
from storage import crypto

config = context.config
if config.config_file_name is not None:  # the CLI; the app configures its own logging
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = SQLModel.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _cli_url() -> str:
    """The Alembic CLI's database: FUQING_DATABASE_URL when set, else the config's URL (and the
    field key configured from the settings, as `fuqing db upgrade` does)."""
    settings = Settings()
    crypto.configure(settings.secret_key, old=settings.old_secret_key)
    if "database_url" in settings.model_fields_set:
        return settings.database_url
    return config.get_main_option("sqlalchemy.url") or ""


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations without a database (`alembic upgrade head --sql`)."""
    url = _cli_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection passed in, or on a new one to the config's URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_cli_url(), poolclass=pool.NullPool)
    with engine.connect() as new_connection:
        _configure(new_connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
