"""Log line formats (`FUQING_LOG_FORMAT`): `text`, one readable line a record, or `json`, one
JSON object a line for a log collector:

    {"time": "2026-03-18T02:00:00.123Z", "level": "WARNING", "logger": "bot.engine",
     "message": "…", "exception": "Traceback …"}

`exception` (the formatted traceback) and `stack` appear only when the record has them. The
handler's filters run before the formatter, so phones, ID numbers and secrets are already masked
in `message`, `exception` and `stack` (`bot.cli.startup.setup_logging`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (non-ASCII kept as it is)."""
        at = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, str] = {
            "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def log_formatter(settings: Settings) -> logging.Formatter:
    """The formatter FUQING_LOG_FORMAT asks for."""
    if settings.log_format == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)
