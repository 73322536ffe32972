"""Browser fixtures: the real app served by uvicorn on loopback, and a page in Debian's Chromium.

`live_server` runs `create_app` in a background thread on 127.0.0.1 and a free port, on a
SQLite copy of the migrated and seeded template in the test's tmp_path (the scheduler off, so
nothing ticks behind a test). `browser_page` is a fresh phone-sized context in one Chromium per
session, driven by Playwright's sync API with `executable_path=/usr/bin/chromium` (no browser
download), one per test module; every test here is marked `browser` and skips with a clear reason when Chromium
or Playwright is missing. `screenshot(page, "name")` saves `<name>.png` into the directory named
by FUQING_SCREENSHOTS (e.g. `docs/screenshots`), and does nothing when it is not set.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from bot.app import create_app
from bot.channels.setup import build_push_channels
from bot.config import Settings
from bot.engine import Engine
from bot.http import Services
from bot.nlp import NLP
from storage.db import Database
from tests.conftest import sqlite_url
from tests.waiting import wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOTS_VARIABLE = "FUQING_SCREENSHOTS"


def pytest_configure(config: pytest.Config) -> None:
    """Register the `browser` marker (`-m "not browser"` leaves the browser tests out)."""
    config.addinivalue_line("markers", "browser: runs in a real Chromium through Playwright")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser as `browser`."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# ----------------------------------------------------------------------------- the server


@dataclass
class LiveServer:
    """The app served on loopback: its base URL and what it runs on."""

    url: str
    settings: Settings
    database: Database
    services: Services


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path, nlp: NLP) -> Iterator[LiveServer]:
    """The real app under uvicorn in a background thread, on a fresh seeded SQLite database."""
    path = tmp_path / "live.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(
        env="test",
        database_url=sqlite_url(path),
        data_dir=tmp_path,
        secret_key="browser-secret",
        api_token="test-api-token",
        admin_token="test-admin-token",
        scheduler="off",
    )
    database = Database(settings.database_url)
    engine = Engine(settings=settings, db=database, nlp=nlp)
    channels = build_push_channels(settings, db=database, engine=engine)
    services = Services(settings=settings, db=database, nlp=nlp, engine=engine, channels=channels)
    app = create_app(settings, services=services)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), what="the live server", limit=10)
        if not server.started:
            raise RuntimeError("the live server did not start")
        yield LiveServer(
            url=f"http://127.0.0.1:{port}", settings=settings, database=database, services=services
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()


# ----------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's sync driver, or a skip when Chromium or Playwright is missing.

    Module-scoped: the sync driver keeps an event loop running in this thread while it lives,
    so it must be gone before the next module's async tests (browser modules hold sync tests).
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM} "
            "(Debian: apt-get install chromium fonts-noto-cjk; .ci/run installs it)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need playwright (pip install -e '.[dev]')"
    )
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One headless Debian Chromium per test module."""
    launched = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield launched
    launched.close()


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[Page]:
    """A fresh page (own cookies and storage) with a phone-sized viewport, Chinese locale."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a screenshot `<name>.png` into $FUQING_SCREENSHOTS, if that is set."""

    def take(page: Page, name: str) -> None:
        directory = os.environ.get(SCREENSHOTS_VARIABLE)
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(directory) / f"{name}.png"), animations="disabled")

    return take


def csp_violations(page: Page) -> list[str]:
    """Collect, from now on, what the page's console says about its Content-Security-Policy
    (Chromium logs each refused inline style or script, or blocked fetch, as an error there)."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found
