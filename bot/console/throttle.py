"""Per-username login throttling for the console: failures back off exponentially.

Every attempt for a username (known or not: an unknown one is throttled the same way, so
neither the answer nor its timing tells which usernames exist) is counted before its password is
checked, and a success clears the count. From the `FREE_FAILURES`-th failure on, the next
attempt must wait `FIRST_WAIT`, doubling with each further failure up to `MAX_WAIT`; an attempt
while the username waits is refused without checking the password, even the right one, and
counts nothing. The count lives in the database (`login_throttle`), so every worker sees it and
an attacker cannot spread guesses over the workers; counting before checking means parallel
guesses cannot slip through together. A count with no failure for `FORGET_AFTER` is deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.nlp.pii import digest
from storage import repo

FREE_FAILURES = 5  # failures in a row before the first wait
FIRST_WAIT = timedelta(seconds=1)  # after the 5th failure; doubles with each further one
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)  # a count with no failure for this long starts afresh


@dataclass(frozen=True)
class Attempt:
    """One login attempt's place in its username's count."""

    allowed: bool  # False: refused until the wait is over (the password is not checked)
    failures: int  # failures in a row so far, this attempt counted as one until it succeeds
    retry_after: int = 0  # refused: whole seconds until the next attempt may be made


def wait_after(failures: int) -> timedelta:
    """How long the next attempt must wait after `failures` failures in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 20)  # 2**20 s is far past the cap
    wait: timedelta = FIRST_WAIT * (1 << doublings)
    return min(wait, MAX_WAIT)


def throttle_key(secret: str, username: str) -> str:
    """The row key of a username: a keyed digest (a password typed as a username is not kept)."""
    message = b"console-login:" + username.encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def masked(username: str) -> str:
    """A username for the log: its first character and a digest ("c…1a2b3c4d5e")."""
    return f"{username[:1]}…{digest(username)}" if username else "(empty)"


def begin_attempt(session: Session, *, key: str, now: datetime) -> Attempt:
    """Count an attempt for the username `key` as a failure (its success clears it), or refuse
    it while the username waits. Also deletes counts older than `FORGET_AFTER`."""
    repo.forget_login_failures(session, before=now - FORGET_AFTER)
    row = repo.login_throttle(session, key=key, now=now)
    if row.locked_until is not None:
        left = (repo.as_utc(row.locked_until) - now).total_seconds()
        if left > 0:
            return Attempt(allowed=False, failures=row.failures, retry_after=math.ceil(left))
    row.failures += 1
    row.last_failure_at = now
    wait = wait_after(row.failures)
    row.locked_until = now + wait if wait else None
    session.add(row)
    return Attempt(allowed=True, failures=row.failures)
