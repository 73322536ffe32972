"""GET /metrics: only with FUQING_METRICS_TOKEN and its bearer token; the message counters move
with each answered message; the outbox, crisis and scheduler gauges are read from the database
and the heartbeat at scrape time; workers' counters add up in multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.engine import Engine
from bot.metrics import Metrics, StateCollector
from scheduler.heartbeat import beat, heartbeat_path
from storage import repo
from storage.db import Database
from storage.models import Outbox
from tests.conftest import API, Clock, Served, served
from tests.factories import bind_cadre, help_request

TOKEN = "metrics-token-5f1c"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).parent.parent.parent


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(name, sorted labels) → value of every sample of an exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(app: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await app.http.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


def _with_token(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"metrics_token": TOKEN, "data_dir": tmp_path})


async def test_metrics_need_the_setting_and_its_token(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """No FUQING_METRICS_TOKEN: no route (404). With it: 401 without or with another token
    (the admin token included), 200 with it."""
    async with served(settings, engine) as app:
        assert (await app.http.get("/metrics", headers=SCRAPE)).status_code == 404
    async with served(_with_token(settings, tmp_path), engine) as app:
        assert (await app.http.get("/metrics")).status_code == 401
        admin = {"Authorization": "Bearer test-admin-token"}
        assert (await app.http.get("/metrics", headers=admin)).status_code == 401
        assert (await app.http.get("/metrics", headers=SCRAPE)).status_code == 200


async def test_message_series_move_after_a_message(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """One message through the API adds 1 to fuqing_messages_total{channel="api"} and one
    observation to the latency histogram; other channels stay absent."""
    async with served(_with_token(settings, tmp_path), engine) as app:
        before = await _scrape(app)
        sent = await app.http.post(
            "/api/v1/messages", headers=API, json={"user": "m1", "text": "你好"}
        )
        assert sent.status_code == 200
        after = await _scrape(app)
    api = (("channel", "api"),)
    assert before.get(("fuqing_messages_total", api), 0.0) == 0.0
    assert after[("fuqing_messages_total", api)] == 1.0
    assert after[("fuqing_message_seconds_count", api)] == 1.0
    assert after[("fuqing_message_seconds_sum", api)] > 0.0
    assert not any(labels == (("channel", "wechat"),) for _name, labels in after)


async def test_state_gauges_are_read_at_scrape(
    settings: Settings, engine: Engine, database: Database, clock: Clock, tmp_path: Path
) -> None:
    """Outbox backlog by status, dead letters, unaccepted crisis requests and the scheduler's
    last tick reflect the database and the heartbeat as they are at each scrape."""
    now = clock()
    with database.transaction() as session:
        cadre = bind_cadre(session, place="朝阳区/双井街道", name="李", external_id="c9", now=now)
        for status in ("pending", "pending", "sending", "dead", "sent", "sent"):
            session.add(
                Outbox(
                    user_id=cadre.id or 0,
                    channel="api",
                    text="x",
                    status=status,
                    due_at=now,
                    created_at=now,
                )
            )
        crisis = help_request(session, crisis=True, now=now)
        help_request(session, crisis=False, now=now)
    async with served(_with_token(settings, tmp_path), engine) as app:
        first = await _scrape(app)
        with database.transaction() as session:
            found = repo.request_by_code(session, code=crisis.code)
            assert found is not None
            repo.set_status(
                session, request=found, status="assigned", actor_id=None, note=None, now=now
            )
        beat(heartbeat_path(tmp_path), now + timedelta(minutes=1))
        second = await _scrape(app)
    assert first[("fuqing_outbox_backlog", (("status", "pending"),))] == 2.0
    assert first[("fuqing_outbox_backlog", (("status", "sending"),))] == 1.0
    assert first[("fuqing_outbox_dead", ())] == 1.0
    assert first[("fuqing_crisis_requests_unaccepted", ())] == 1.0
    assert first[("fuqing_database_up", ())] == 1.0
    assert ("fuqing_scheduler_last_tick_timestamp_seconds", ()) not in first
    assert second[("fuqing_crisis_requests_unaccepted", ())] == 0.0
    last_tick = second[("fuqing_scheduler_last_tick_timestamp_seconds", ())]
    assert last_tick == (now + timedelta(minutes=1)).timestamp()


def test_an_unreachable_database_is_a_gauge_not_an_error(tmp_path: Path) -> None:
    """When the database cannot be read the scrape still answers: fuqing_database_up 0 and no
    database gauges."""
    broken = Database(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    try:
        samples = _samples(
            "".join(
                f"{family.name} {family.samples[0].value}\n"
                for family in StateCollector(broken, heartbeat_path(tmp_path)).collect()
            )
        )
    finally:
        broken.dispose()
    assert samples == {("fuqing_database_up", ()): 0.0}


WORKER = """
import sys
from bot.metrics import Metrics
Metrics(multiprocess=True).observe_message(sys.argv[1], 0.02)
"""
SCRAPER = "from bot.metrics import Metrics; print(Metrics(multiprocess=True).exposition().decode())"


def test_workers_counters_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    """Three worker processes count a message each (two api, one wechat) into the shared
    directory; any process's exposition shows the sums."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for channel in ("api", "api", "wechat"):
        subprocess.run([sys.executable, "-c", WORKER, channel], cwd=ROOT, env=env, check=True)
    shown = subprocess.run(
        [sys.executable, "-c", SCRAPER], cwd=ROOT, env=env, check=True, capture_output=True
    ).stdout.decode()
    samples = _samples(shown)
    assert samples[("fuqing_messages_total", (("channel", "api"),))] == 2.0
    assert samples[("fuqing_messages_total", (("channel", "wechat"),))] == 1.0
    assert samples[("fuqing_message_seconds_count", (("channel", "api"),))] == 2.0


def test_single_process_metrics_keep_their_own_registry() -> None:
    """Two apps in one process (the tests' case) count apart: no global registry is shared."""
    first, second = Metrics(), Metrics()
    first.observe_message("api", 0.01)
    assert b'fuqing_messages_total{channel="api"} 1.0' in first.exposition()
    assert b"fuqing_messages_total{" not in second.exposition()


def test_production_refuses_a_weak_metrics_token() -> None:
    """FUQING_METRICS_TOKEN is a secret the operator makes: production refuses a short one and
    never logs it (it is among the masked secrets); unset, /metrics is simply off."""
    strong = {
        name: f"{name}-Zq7mP2xK9vL4nR8sT1wY6bC3dF5gH0jQ"
        for name in ("secret_key", "api_token", "admin_token")
    }
    Settings(env="production", **strong).check_secrets()
    with pytest.raises(ValueError, match="FUQING_METRICS_TOKEN"):
        Settings(env="production", metrics_token="short-token", **strong).check_secrets()
    Settings(
        env="production", metrics_token=TOKEN + "-aB3dE6gH9jK2mN5pQ8sT1v", **strong
    ).check_secrets()
