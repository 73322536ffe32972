"""Per-username login throttling (`bot/console/throttle.py`) over the real app, on both
databases, with the engine's clock moved by hand (no sleeps)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.config import Settings
from bot.console.throttle import FREE_FAILURES, MAX_WAIT, wait_after
from bot.engine import Engine
from storage.db import Database
from tests.conftest import Clock, served
from tests.console.sessions import PASSWORD, csrf_of, make_staff

WRONG = "wrong-password-1"


class LoginForm:
    """The login form of one browser: its CSRF token fetched once, then posted again and again."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token: str | None = None

    async def post(self, username: str, password: str) -> httpx.Response:
        """Submit the form with these credentials."""
        if self.token is None:
            self.token = csrf_of((await self.client.get("/console/login")).text)
        return await self.client.post(
            "/console/login",
            data={"username": username, "password": password, "csrf_token": self.token},
        )


def test_the_wait_doubles_from_the_fifth_failure_to_a_cap() -> None:
    """No wait for 4 failures; 1 s after the 5th, doubling; 15 minutes at most."""
    waits = [wait_after(n).total_seconds() for n in range(1, 18)]
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert wait_after(10_000) == MAX_WAIT


@pytest.fixture
async def unlimited(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app without the per-IP budget (guesses spread over many addresses)."""
    free = settings.model_copy(update={"rate_ip_per_minute": 0})
    async with served(free, engine) as app:
        yield app.http


@pytest.mark.parametrize("username,guesses", [("chaoyang", 400), ("nobody", 40)])
async def test_400_wrong_guesses_then_the_right_one_is_refused_until_the_wait_passes(
    unlimited: httpx.AsyncClient, database: Database, clock: Clock, username: str, guesses: int
) -> None:
    """400 wrong guesses in a burst: 5 are checked, the rest refused with 429 + Retry-After;
    the right password too, until the wait passes; then it works and the count starts afresh.
    An unknown username gets exactly the same answers."""
    make_staff(database, "chaoyang")
    client = unlimited
    form = LoginForm(client)
    codes = [(await form.post(username, WRONG)).status_code for _ in range(guesses)]
    assert codes == [401] * FREE_FAILURES + [429] * (guesses - FREE_FAILURES)
    refused = await form.post(username, PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "登录失败次数太多" in refused.text and "1 秒后再试" in refused.text
    clock.advance(seconds=1)
    after = await form.post(username, PASSWORD)
    if username == "nobody":
        assert after.status_code == 401
        return
    assert after.status_code == 303
    client.cookies.clear()
    form = LoginForm(client)
    assert (await form.post(username, WRONG)).status_code == 401  # a success cleared the count
    assert (await form.post(username, PASSWORD)).status_code == 303


async def test_waiting_out_each_refusal_doubles_the_wait_up_to_15_minutes(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    """A guesser who waits out every refusal: each failure doubles the next wait, to 900 s;
    the right password during a wait is refused, after it logs her in."""
    make_staff(database, "chaoyang")
    form = LoginForm(client)
    for _ in range(FREE_FAILURES):
        await form.post("chaoyang", WRONG)
    waits = []
    for _ in range(12):
        refused = await form.post("chaoyang", WRONG)
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(seconds=waits[-1])
        assert (await form.post("chaoyang", WRONG)).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    locked = await form.post("chaoyang", PASSWORD)
    assert locked.status_code == 429 and "15 分钟后再试" in locked.text
    clock.advance(minutes=15)
    assert (await form.post("chaoyang", PASSWORD)).status_code == 303


async def test_the_count_is_shared_by_every_worker(
    settings: Settings, engine: Engine, database: Database
) -> None:
    """Guesses spread over two app processes (two apps on one database) count together."""
    make_staff(database, "chaoyang")
    async with served(settings, engine) as one, served(settings, engine) as two:
        forms = [LoginForm(one.http), LoginForm(two.http)]
        codes = [(await forms[n % 2].post("chaoyang", WRONG)).status_code for n in range(8)]
    assert codes == [401] * FREE_FAILURES + [429] * 3


async def test_a_count_with_no_failure_for_a_day_is_forgotten(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    """Four failures, then a day without any: the fifth failure a day later starts afresh."""
    make_staff(database, "chaoyang")
    form = LoginForm(client)
    for _ in range(FREE_FAILURES - 1):
        await form.post("chaoyang", WRONG)
    clock.advance(days=1, seconds=1)
    form = LoginForm(client)  # the old form's token has expired
    codes = [(await form.post("chaoyang", WRONG)).status_code for _ in range(FREE_FAILURES + 1)]
    assert codes == [401] * FREE_FAILURES + [429]


async def test_failures_are_logged_with_the_username_masked_and_the_ip(
    client: httpx.AsyncClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Each failure and each refusal is a WARNING naming the client IP and the username as
    its first letter and a digest; neither the username nor a password is in the log."""
    make_staff(database, "chaoyang")
    caplog.set_level(logging.WARNING, logger="bot.console")
    form = LoginForm(client)
    for _ in range(FREE_FAILURES + 1):
        await form.post("chaoyang", WRONG)
    records = [r for r in caplog.records if r.name == "bot.console.pages"]
    assert len(records) == FREE_FAILURES + 1
    assert all(r.levelno == logging.WARNING and "127.0.0.1" in r.getMessage() for r in records)
    assert "c…" in records[0].getMessage() and "must wait 1 s" in records[-1].getMessage()
    assert "chaoyang" not in caplog.text and WRONG not in caplog.text
