"""Prometheus metrics at `GET /metrics`, for `Authorization: Bearer <FUQING_METRICS_TOKEN>`;
without that setting there is no `/metrics` route.

On the message path there are only two increments (the engine's `on_handled` hook): a counter
and a histogram per channel. Everything else is read when Prometheus scrapes, with one indexed
count each (`storage/repo/gauges.py`) and one small file:

- `fuqing_messages_total{channel}`: messages answered
- `fuqing_message_seconds{channel}`: the time to answer one (histogram)
- `fuqing_outbox_backlog{status="pending"|"sending"}`: pushes waiting or being sent
- `fuqing_outbox_dead`: dead letters, pushes given up after every retry
- `fuqing_crisis_requests_unaccepted`: urgent cases nobody accepted yet (bot/domain/urgency.py)
- `fuqing_scheduler_last_tick_timestamp_seconds`: the scheduler's heartbeat (absent before its
  first tick, and when the scheduler runs with another data directory)
- `fuqing_database_up`: 0 while the database cannot be read (the three gauges above are left out)
- `process_*`, `python_info`: prometheus_client's own (one worker only)

With `fuqing serve --workers N` every worker writes its counters to files in a directory that
`serve` creates and names in `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess
mode), and any worker's `/metrics` sums them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError

from bot.domain import urgency
from bot.http import bearer_guard
from storage import repo
from storage.db import Database
from storage.heartbeat import last_beat

# Seconds: a message takes ~10-50 ms on SQLite; the tail is what an operator watches.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class StateCollector(Collector):
    """The gauges read at scrape time: the outbox, unaccepted crises, the scheduler's tick."""

    def __init__(self, db: Database, heartbeat: Path) -> None:
        self.db = db
        self.heartbeat = heartbeat

    def describe(self) -> Iterable[Metric]:
        """Nothing up front (registering must not query the database)."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Count now; leave the database's gauges out (and say so) when it cannot be read."""
        try:
            with self.db.read() as session:
                backlog = repo.outbox_backlog(session)
                crises = urgency.count_waiting(session, unit_ids=None)
        except DBAPIError:
            yield GaugeMetricFamily("fuqing_database_up", "The database answered.", value=0)
        else:
            yield GaugeMetricFamily("fuqing_database_up", "The database answered.", value=1)
            waiting = GaugeMetricFamily(
                "fuqing_outbox_backlog", "Pushes waiting or being sent.", labels=["status"]
            )
            for status in ("pending", "sending"):
                waiting.add_metric([status], backlog[status])
            yield waiting
            yield GaugeMetricFamily(
                "fuqing_outbox_dead", "Pushes given up after every retry.", value=backlog["dead"]
            )
            yield GaugeMetricFamily(
                "fuqing_crisis_requests_unaccepted",
                "Crisis help requests nobody has accepted (status new).",
                value=crises,
            )
        last = last_beat(self.heartbeat)
        if last is not None:
            yield GaugeMetricFamily(
                "fuqing_scheduler_last_tick_timestamp_seconds",
                "Unix time of the last tick the active scheduler completed.",
                value=last.timestamp(),
            )


class Metrics:
    """The app's metrics: its own registry (one worker) or the workers' shared files."""

    def __init__(self, *, multiprocess: bool = False) -> None:
        self.multiprocess = multiprocess
        self.registry = CollectorRegistry()
        own = None if multiprocess else self.registry  # multiprocess: values go to the files
        self.messages = Counter("fuqing_messages", "Messages answered.", ["channel"], registry=own)
        self.latency = Histogram(
            "fuqing_message_seconds",
            "Seconds to answer a message.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        if not multiprocess:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.state: StateCollector | None = None

    def observe_message(self, channel: str, seconds: float) -> None:
        """Count one answered message of `channel` that took `seconds`."""
        self.messages.labels(channel).inc()
        self.latency.labels(channel).observe(seconds)

    def watch(self, db: Database, heartbeat: Path) -> None:
        """Read the database's gauges and the scheduler's heartbeat at every scrape."""
        self.state = StateCollector(db, heartbeat)
        if not self.multiprocess:
            self.registry.register(self.state)

    def exposition(self) -> bytes:
        """Every series in Prometheus' text format (blocking: the database is read)."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        # Every worker's counters, from PROMETHEUS_MULTIPROC_DIR (the library leaves this untyped).
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        if self.state is not None:
            registry.register(self.state)
        return generate_latest(registry)


def metrics_of(request: Request) -> Metrics:
    """The app's metrics (set by `create_app` when FUQING_METRICS_TOKEN is set)."""
    found: Metrics = request.app.state.metrics
    return found


router = APIRouter(dependencies=[Depends(bearer_guard("metrics_token"))])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus' scrape: every series, the database's gauges counted now."""
    body = await asyncio.to_thread(metrics_of(request).exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
