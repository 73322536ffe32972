"""FUQING_LOG_FORMAT=json: one JSON object per line (UTC time, level, logger, message,
exception), after the same PII and secret masks as the text format."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from bot.cli.startup import setup_logging
from bot.config import Settings

PHONE = "13912345678"
SECRET = "metrics-secret-Zq91"


@pytest.fixture
def json_lines(restore_root_logger: None) -> io.StringIO:
    """The app's logging set-up in JSON, its handler writing to a string."""
    setup_logging(Settings(log_format="json", metrics_token=SECRET))
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_line(json_lines: io.StringIO) -> None:
    """Time in UTC ISO 8601 with Z, level, logger name and the formatted message, Chinese kept."""
    logging.getLogger("fuqing.test").warning("她说 %s 次", 3)
    [line] = _lines(json_lines)
    assert set(line) == {"time", "level", "logger", "message"}
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "fuqing.test",
        "她说 3 次",
    )
    at = datetime.fromisoformat(line["time"])
    assert line["time"].endswith("Z") and at.tzinfo == UTC
    assert abs((datetime.now(UTC) - at).total_seconds()) < 60


def test_phones_and_secrets_are_masked_in_message_and_exception(json_lines: io.StringIO) -> None:
    """A phone and a configured secret in the message, its arguments and a traceback reach the
    JSON line masked only; the traceback is its own field."""
    log = logging.getLogger("fuqing.test")
    log.info("电话 %s 令牌 %s", PHONE, SECRET)
    try:
        raise ValueError(f"bad phone {PHONE} with {SECRET}")
    except ValueError:
        log.exception("failed for %s", PHONE)
    first, second = _lines(json_lines)
    written = json_lines.getvalue()
    assert PHONE not in written and SECRET not in written
    assert first["message"] == "电话 139****5678 令牌 ***"
    assert second["message"] == "failed for 139****5678"
    assert (
        "Traceback" in second["exception"]
        and "ValueError: bad phone 139****5678 with ***" in (second["exception"])
    )


def test_text_stays_the_default(restore_root_logger: None) -> None:
    """Without the setting, lines are the readable text format."""
    setup_logging(Settings())
    [handler] = logging.getLogger().handlers
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logging.getLogger("fuqing.test").warning("plain")
    assert stream.getvalue().rstrip().endswith("WARNING fuqing.test: plain")
