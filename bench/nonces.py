"""Benchmark of the callbacks' nonce memory: what one delivery's claim adds to the message path.

Run `python bench/nonces.py` (or `make bench`). On a throw-away SQLite file it times
`ReplayGuard.claim` (a thread hop, then one `INSERT … ON CONFLICT DO NOTHING` in its own Core
transaction) for new nonces and for retries (the pair known: the insert does nothing, a select
reads the digest), and, for scale, `Engine.handle_sync` over whole help requests: CPU µs of
this process and wall µs per call, the best of three rounds. With FUQING_TEST_DATABASE_URL set
it does the same on PostgreSQL in a throw-away schema (dropped afterwards). Prints figures;
never asserts.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout, uninstalled
sys.path.insert(0, str(ROOT / "bench"))

from load import HELP_REQUEST, PG_URL_VARIABLE, postgres_schema  # noqa: E402

from bot.channels.wechat.replay import ReplayGuard  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.messages import Incoming, utcnow  # noqa: E402
from bot.nlp import NLP  # noqa: E402
from bot.places import place_units  # noqa: E402
from storage import crypto  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

CLAIMS, RESIDENTS, ROUNDS = 1000, 20, 3
MESSAGE = b"<xml><ToUserName>gh</ToUserName>" + b"x" * 300 + b"</xml>"


def best_of(rounds: int, run: Callable[[int], int]) -> tuple[float, float]:
    """(CPU µs, wall µs) per call of the fastest round; `run(round)` returns its call count."""
    best: tuple[float, float] | None = None
    for number in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        calls = run(number)
        figures = (
            (time.process_time() - cpu) / calls * 1e6,
            (time.perf_counter() - wall) / calls * 1e6,
        )
        best = figures if best is None or figures[0] < best[0] else best
    assert best is not None
    return best


def claims(db: Database) -> tuple[tuple[float, float], tuple[float, float]]:
    """Per claim: a new nonce, and a known one (WeChat's retry)."""
    guard = ReplayGuard(db=db, clock=utcnow)
    stamp = int(utcnow().timestamp())

    def claim_all(prefix: str) -> int:
        async def run() -> None:
            for n in range(CLAIMS):
                await guard.claim("wechat", timestamp=stamp, nonce=f"{prefix}{n}", message=MESSAGE)

        asyncio.run(run())
        return CLAIMS

    fresh = best_of(ROUNDS, lambda number: claim_all(f"r{number}-"))
    retry = best_of(ROUNDS, lambda _number: claim_all("r0-"))
    return fresh, retry


def messages(db: Database, nlp: NLP) -> tuple[float, float]:
    """Per engine message of a whole help request."""
    engine = Engine(settings=Settings(env="test", database_url=db.url), db=db, nlp=nlp)

    def residents(number: int) -> int:
        for resident in range(RESIDENTS):
            user = f"bench-{number}-{resident}"
            for step, text in enumerate(HELP_REQUEST):
                incoming = Incoming(
                    channel="wechat", user=user, text=text, msg_id=f"{user}:{step}", at=utcnow()
                )
                engine.handle_sync(incoming)
        return RESIDENTS * len(HELP_REQUEST)

    return best_of(ROUNDS, residents)


def report(label: str, db: Database, nlp: NLP) -> None:
    """Print one database's figures."""
    (fresh_cpu, fresh_wall), (retry_cpu, retry_wall) = claims(db)
    message_cpu, message_wall = messages(db, nlp)
    print(
        f"{label:<10} claim {fresh_cpu:5.0f} µs CPU, {fresh_wall:5.0f} µs wall "
        f"(retry {retry_cpu:.0f} / {retry_wall:.0f}); message {message_cpu:6.0f} µs CPU, "
        f"{message_wall:6.0f} µs wall; claim = {fresh_cpu / message_cpu:.1%} of a message's CPU",
        flush=True,
    )


def main() -> None:
    """Run on SQLite, then on PostgreSQL when its URL is set."""
    crypto.configure("bench-secret-key")
    with tempfile.TemporaryDirectory(prefix="fuqing-nonces-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'nonces.db'}")
        upgrade(db)
        with db.read() as session:
            nlp = NLP.load(place_units(session), cache_dir=Path(tmp) / "jieba")
        report("SQLite", db, nlp)
        db.dispose()
        url = os.environ.get(PG_URL_VARIABLE)
        if not url:
            print(f"PostgreSQL: skipped (set {PG_URL_VARIABLE} to include it)")
            return
        with postgres_schema(url) as scoped:
            db = Database(scoped)
            report("PostgreSQL", db, nlp)
            db.dispose()


if __name__ == "__main__":
    main()
