"""The scheduler's heartbeat: a file in the data directory with the time of the last tick the
active scheduler completed (ISO 8601, UTC). It lives in storage because the scheduler writes it
and `/metrics` and the CLI read it.

The scheduler has no HTTP port, so its health is this file: `fuqing scheduler --check` exits 1
when it is missing or older than `--max-age` (docker-compose's health check of the scheduler),
and `/metrics` reports it as `fuqing_scheduler_last_tick_timestamp_seconds` when the web
workers share the data directory. A tick that fails (the database is down) leaves it as it was,
so it ages; a standby scheduler on PostgreSQL (another one holds the lock) does not write it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

HEARTBEAT_FILE = "scheduler-heartbeat"
DEFAULT_MAX_AGE = timedelta(minutes=3)  # three missed ticks of a minute


def heartbeat_path(data_dir: Path) -> Path:
    """The heartbeat file in FUQING_DATA_DIR."""
    return data_dir / HEARTBEAT_FILE


def beat(path: Path, at: datetime) -> None:
    """Record a completed tick at `at` (written whole: a reader never sees half a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(at.astimezone(UTC).isoformat(), encoding="utf-8")
    partial.replace(path)


def last_beat(path: Path) -> datetime | None:
    """The time of the last completed tick, or None when there is none (or it is unreadable)."""
    try:
        found = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return found if found.tzinfo is not None else None


def check(path: Path, *, now: datetime, max_age: timedelta = DEFAULT_MAX_AGE) -> str | None:
    """None when the last tick is at most `max_age` old; else why the scheduler is unhealthy."""
    last = last_beat(path)
    if last is None:
        return f"no scheduler tick recorded in {path}"
    age = now - last
    if age > max_age:
        return f"the last scheduler tick was {age.total_seconds():.0f} s ago ({last.isoformat()})"
    return None
