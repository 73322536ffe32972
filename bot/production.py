"""What FUQING_ENV=production refuses at start-up, beyond the settings' own checks
(`Settings.check_secrets` and `bot.config.PRODUCTION_CHECKS`): what the database holds.

Every entry point that serves or sends runs both through `bot.app.build_services` (`fuqing
serve` and each of its workers, `fuqing scheduler`, `fuqing telegram`, `fuqing chat`), and
`fuqing serve --workers N` before it starts the workers. docs/privacy.md lists it all.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.config import Settings
from bot.demo import demo_leftovers
from storage.db import Database

# Each check reads the database and returns its problems, each a sentence saying what to run.
DatabaseCheck = Callable[[Session], list[str]]
DATABASE_CHECKS: list[DatabaseCheck] = [demo_leftovers]


class UnsafeDeployment(ValueError):
    """Production would start with something it must not have; the message says what to do."""


def check_database(settings: Settings, db: Database) -> None:
    """In production, raise UnsafeDeployment listing what DATABASE_CHECKS find (a migrated
    database); elsewhere do nothing."""
    if settings.env != "production":
        return
    with db.read() as session:
        problems = [problem for check in DATABASE_CHECKS for problem in check(session)]
    if problems:
        raise UnsafeDeployment("production refuses to start:\n" + "\n".join(problems))
