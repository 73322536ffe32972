"""Quiet hours: from 21:00 to 08:00 local time only urgent pushes go out; the rest wait.

The dispatcher holds pushes by this rule; the scheduler and reviews use it to time what they
queue. The local time zone is FUQING_TIMEZONE (Asia/Shanghai by default), passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIET_FROM, QUIET_UNTIL = 21, 8  # local hours: nothing but urgent pushes from 21:00 to 08:00


def is_quiet(now: datetime, tz: ZoneInfo = SHANGHAI) -> bool:
    """True between 21:00 and 08:00 local time, when only urgent pushes go out."""
    hour = now.astimezone(tz).hour
    return hour >= QUIET_FROM or hour < QUIET_UNTIL


def quiet_until(now: datetime, tz: ZoneInfo = SHANGHAI) -> datetime:
    """The end of the quiet hours `now` falls in (08:00 local), as UTC; `now` itself if none."""
    if not is_quiet(now, tz):
        return now
    local = now.astimezone(tz)
    morning = local.replace(hour=QUIET_UNTIL, minute=0, second=0, microsecond=0)
    if local.hour >= QUIET_FROM:
        morning += timedelta(days=1)
    return morning.astimezone(UTC)
