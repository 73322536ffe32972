"""What every `fuqing` command shares: Settings built once from the environment (and the field
encryption key set from them), logging set up with the PII and secrets masks, and failing with
a message on stderr (exit status 1)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

from bot.access_log import install_access_log_filter
from bot.config import OPTIONAL_SECRETS, REQUIRED_SECRETS, Settings
from bot.jsonlog import log_formatter
from bot.nlp import PiiMaskingFilter
from storage import crypto

if TYPE_CHECKING:
    from bot.http import Services
    from storage.db import Database

# Settings whose values never reach a log line.
SECRET_FIELDS = (*REQUIRED_SECRETS, *OPTIONAL_SECRETS, "old_secret_key")
# Secrets carried in URLs that libraries log (httpx logs every request at INFO): a Telegram token
# in the path, WeChat's access_token and secret in the query.
_URL_SECRETS = re.compile(r"(/bot)\d+:[\w-]+|((?:access_token|secret|corpsecret)=)[^&\s\"']+")
SHORTEST_MASKED = 6  # shorter "secrets" (tests' "s") would mask ordinary words


class SecretMaskingFilter(logging.Filter):
    """A logging filter that replaces the configured secrets' values, and tokens in API URLs,
    by *** (after PiiMaskingFilter, which formats the message and the traceback)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        kept = {s for s in secrets if s and len(s) >= SHORTEST_MASKED}
        self.secrets = sorted(kept, key=len, reverse=True)  # a secret inside another: longest first

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _URL_SECRETS.sub(lambda m: f"{m.group(1) or m.group(2)}***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the message, the traceback and the stack; keep the record."""
        if record.args:
            record.msg, record.args = record.getMessage(), ()
        record.msg = self._mask(str(record.msg))
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self._mask(record.stack_info)
        return True


def setup_logging(settings: Settings) -> None:
    """Log to stderr; every record passes the PII mask (phones, ID numbers) and the secrets';
    uvicorn's access log shows no callback query string (`bot/access_log.py`)."""
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(settings))  # FUQING_LOG_FORMAT: text or json
    handler.addFilter(PiiMaskingFilter())
    handler.addFilter(SecretMaskingFilter(getattr(settings, name) for name in SECRET_FIELDS))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    install_access_log_filter()  # no callback query strings, no phone numbers in URLs


def load_settings() -> Settings:
    """Settings from the environment, with logging set up by them and the field key set."""
    settings = Settings()
    setup_logging(settings)
    crypto.configure(settings.secret_key, old=settings.old_secret_key)
    return settings


def fail(message: str) -> NoReturn:
    """Print `message` on stderr and exit with status 1."""
    typer.echo(message, err=True)
    raise typer.Exit(1)


@contextmanager
def migrated_database(settings: Settings) -> Iterator[Database]:
    """The configured database, or exit 1 when its schema is behind (`fuqing db upgrade`);
    closed afterwards."""
    from storage import migrate
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        behind = migrate.pending_message(db)
        if behind is not None:
            fail(behind)
        yield db
    finally:
        db.dispose()


def services_or_fail(settings: Settings) -> Services:
    """The app's services, or exit 1 saying why not (unmigrated schema, placeholder secrets)."""
    from bot.app import SchemaNotReady, build_services

    try:
        return build_services(settings)
    except (SchemaNotReady, ValueError) as problem:
        fail(str(problem))
