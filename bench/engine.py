"""Benchmark of the dialogue engine: whole help requests, one resident after another.

Run `python bench/engine.py` (or `make bench`). It builds a throw-away SQLite database, loads the
NLP, times `analyze()` alone, then plays N residents each filing a full help request through
`Engine.handle_sync` and prints messages/s and p50/p99 latency. With FUQING_TEST_DATABASE_URL set
it does the same on PostgreSQL, in a throw-away schema of that database (dropped afterwards; the
tables of `public` that the tests use are not touched).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from sqlalchemy import func, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.config import Settings
from bot.engine import Engine
from bot.messages import Incoming
from bot.nlp import NLP
from bot.places import place_units
from storage import crypto
from storage.db import Database
from storage.migrate import upgrade
from storage.models import HelpRequest

PG_URL_VARIABLE = "FUQING_TEST_DATABASE_URL"
RESIDENTS = 300
HELP_REQUEST = (
    "我要求助",
    "想找一份离家近的保洁工作",
    "对",
    "朝阳区双井街道",
    "1",
    "确认",
)
FILED_MARK = "已提交"
REF = date(2026, 3, 18)


@dataclass
class Run:
    """The outcome of one engine run."""

    label: str
    messages: int
    seconds: float
    latencies_ms: list[float]
    filed: int
    confirmed: int

    def report(self) -> None:
        """Print throughput, latency percentiles and how many requests were filed."""
        ordered = sorted(self.latencies_ms)
        print(
            f"{self.label}: {self.messages} messages in {self.seconds:.2f} s = "
            f"{self.messages / self.seconds:.0f} messages/s; "
            f"p50 {percentile(ordered, 50):.1f} ms, p99 {percentile(ordered, 99):.1f} ms, "
            f"max {ordered[-1]:.1f} ms; "
            f"help requests filed: {self.filed} (confirmed in chat: {self.confirmed})"
        )


def percentile(ordered: list[float], pct: float) -> float:
    """The nearest-rank percentile of an already sorted list."""
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def bench_analyze(nlp: NLP, residents: int) -> None:
    """Time `analyze()` alone over the help-request texts, once per resident."""
    texts = list(HELP_REQUEST) * residents
    start = time.perf_counter()
    for item in texts:
        nlp.analyze(item, REF)
    seconds = time.perf_counter() - start
    print(
        f"analyze(): {len(texts)} texts in {seconds:.2f} s = {len(texts) / seconds:.0f} texts/s "
        f"({seconds / len(texts) * 1e6:.0f} µs each)"
    )


def bench_engine(label: str, db: Database, nlp: NLP, residents: int) -> Run:
    """Play `residents` whole help requests, one message at a time, and time each message."""
    engine = Engine(settings=Settings(env="test", database_url=db.url), db=db, nlp=nlp)
    latencies: list[float] = []
    confirmed = 0
    start = time.perf_counter()
    for number in range(residents):
        user = f"bench-{number}"
        for step, said in enumerate(HELP_REQUEST):
            sent = time.perf_counter()
            replies = engine.handle_sync(
                Incoming(channel="api", user=user, text=said, msg_id=f"{user}-{step}")
            )
            latencies.append((time.perf_counter() - sent) * 1000)
        confirmed += any(FILED_MARK in reply.text for reply in replies)
    seconds = time.perf_counter() - start
    with db.read() as session:
        filed = session.exec(select(func.count()).select_from(HelpRequest)).one()
    return Run(
        label=label,
        messages=len(latencies),
        seconds=seconds,
        latencies_ms=latencies,
        filed=int(filed),
        confirmed=confirmed,
    )


@contextmanager
def sqlite_database() -> Iterator[Database]:
    """A migrated SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="fuqing-bench-") as directory:
        db = Database(f"sqlite:///{Path(directory) / 'bench.db'}")
        try:
            timed("migrate SQLite", lambda: upgrade(db))
            yield db
        finally:
            db.dispose()


@contextmanager
def postgres_database(url: str) -> Iterator[Database]:
    """A migrated throw-away schema of the PostgreSQL database at `url`, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(scoped.render_as_string(hide_password=False))
    try:
        timed("migrate PostgreSQL", lambda: upgrade(db))
        yield db
    finally:
        db.dispose()
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def timed(label: str, work: Callable[[], object]) -> None:
    """Run a no-argument callable and print how long it took."""
    start = time.perf_counter()
    work()
    print(f"{label}: {time.perf_counter() - start:.2f} s")


def main() -> None:
    """Parse the arguments and run the SQLite (and PostgreSQL) benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--residents", type=int, default=RESIDENTS, help="help requests to play")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(PG_URL_VARIABLE),
        help=f"PostgreSQL URL (default ${PG_URL_VARIABLE}; none: SQLite only)",
    )
    args = parser.parse_args()
    residents: int = args.residents
    crypto.configure("bench-secret-key")  # as the app does at start-up: texts are encrypted
    print(f"{residents} residents × {len(HELP_REQUEST)} messages, one at a time")

    with sqlite_database() as db, tempfile.TemporaryDirectory(prefix="fuqing-jieba-") as cache:
        with db.read() as session:
            units = place_units(session)
        start = time.perf_counter()
        nlp = NLP.load(units, cache_dir=Path(cache))
        print(f"NLP.load: {time.perf_counter() - start:.2f} s")
        bench_analyze(nlp, residents)
        bench_engine("SQLite", db, nlp, residents).report()

        if not args.pg_url:
            print(f"PostgreSQL: skipped (set {PG_URL_VARIABLE} or --pg-url to include it)")
            return
        with postgres_database(args.pg_url) as pg:
            bench_engine("PostgreSQL", pg, nlp, residents).report()


if __name__ == "__main__":
    main()
