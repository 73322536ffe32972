"""`bot.production`: production refuses to start while the demo's console logins or its unused
invite are in the database, at every entry point; `fuqing demo --remove` clears them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_services, create_app
from bot.config import Settings
from bot.console.auth import hash_password
from bot.demo import DEMO_INVITE, remove_demo_leftovers, seed_demo
from bot.production import UnsafeDeployment, check_database
from storage import crypto, repo
from storage.db import Database
from tests.conftest import cli_env, invoke
from tests.console.sessions import FAST

NOW = datetime(2026, 4, 1, 2, tzinfo=UTC)
STRONG = {
    "secret_key": "avNBdK33l4GFntIjkJN86q08HYusPx_FpqseJRcJeGc",
    "api_token": "IMPYvxmB6eJgs_ixk6S0aaAwqd84V1RSIU8KrLcHnbI",
    "admin_token": "bt926T3MOn8v6Q_4xF0IoJFq8ZUpI7PduAQgDNViOUg",
}


def _seed_demo(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """Seed the development demo (its two console logins and the unused invite DEMO2026) under
    the production key, with cheap password hashes."""
    monkeypatch.setattr("bot.console.auth.hasher", lambda: FAST)
    crypto.configure(STRONG["secret_key"])
    with db.transaction() as session:
        seed_demo(session, now=NOW, staff=True)
    return db


@pytest.fixture
def demo_file(sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A migrated SQLite file seeded by the development demo."""
    return _seed_demo(sqlite_database, monkeypatch)


def _production(db: Database, tmp_path: Path) -> Settings:
    return Settings(
        env="production", database_url=db.url, data_dir=tmp_path, scheduler="off", **STRONG
    )


def _production_env(db: Database, tmp_path: Path) -> dict[str, str]:
    env = cli_env(tmp_path) | {"FUQING_ENV": "production", "FUQING_DATABASE_URL": db.url}
    return env | {f"FUQING_{name.upper()}": value for name, value in STRONG.items()}


def test_build_services_refuses_the_demo_in_production(demo_file: Database, tmp_path: Path) -> None:
    """Production start-up names both demo logins and the invite, and how to remove them."""
    with pytest.raises(UnsafeDeployment) as refused:
        build_services(_production(demo_file, tmp_path))
    message = str(refused.value)
    assert "'city'" in message and "'chaoyang'" in message and DEMO_INVITE in message
    assert message.count("`fuqing demo --remove`") == 3


async def test_the_app_does_not_start_in_production_with_the_demo(
    demo_file: Database, tmp_path: Path
) -> None:
    """The app's lifespan (uvicorn's start-up) fails the same way."""
    app = create_app(_production(demo_file, tmp_path))
    with pytest.raises(UnsafeDeployment):
        async with app.router.lifespan_context(app):
            pass


def test_development_and_test_keep_the_demo(demo_file: Database, tmp_path: Path) -> None:
    """Outside production the demo is welcome."""
    for env in ("development", "test"):
        check_database(_production(demo_file, tmp_path).model_copy(update={"env": env}), demo_file)


def test_changed_passwords_and_a_used_invite_are_not_leftovers(
    demo_file: Database, tmp_path: Path
) -> None:
    """A demo login given a new password, a deactivated one and a redeemed invite pass."""
    with demo_file.transaction() as session:
        city = repo.staff_by_username(session, username="city")
        chaoyang = repo.staff_by_username(session, username="chaoyang")
        assert city is not None and chaoyang is not None
        city.password_hash = hash_password("a-new-long-password")
        chaoyang.active = False
        invite = repo.find_invite(session, code=DEMO_INVITE)
        _identity, user, _new = repo.get_or_create_identity(
            session, channel="api", external_id="new-cadre", now=NOW
        )
        assert invite is not None
        repo.redeem_invite(session, invite=invite, user=user, now=NOW)
    check_database(_production(demo_file, tmp_path), demo_file)


def test_removing_the_leftovers_lets_production_start(demo_file: Database, tmp_path: Path) -> None:
    """`remove_demo_leftovers` deletes both logins and the invite, once."""
    with demo_file.transaction() as session:
        removed = remove_demo_leftovers(session)
    assert removed == ["console login city", "console login chaoyang", f"invite {DEMO_INVITE}"]
    check_database(_production(demo_file, tmp_path), demo_file)
    with demo_file.transaction() as session:
        assert remove_demo_leftovers(session) == []


@pytest.mark.usefixtures("restore_root_logger")
@pytest.mark.parametrize("command", [["serve"], ["scheduler", "tick"]])
def test_cli_entry_points_refuse_the_demo_in_production(
    demo_file: Database, tmp_path: Path, command: list[str]
) -> None:
    """`fuqing serve` and `fuqing scheduler` exit 1 with the message; after `fuqing demo
    --remove` (allowed in production) the scheduler runs."""
    env = _production_env(demo_file, tmp_path)
    refused = invoke(command, env)
    assert refused.exit_code == 1
    assert "production refuses to start" in refused.output and DEMO_INVITE in refused.output
    removed = invoke(["demo", "--remove"], env)
    assert removed.exit_code == 0, removed.output
    assert f"removed: console login city, console login chaoyang, invite {DEMO_INVITE}" in (
        removed.output
    )
    if command[0] == "scheduler":
        ticked = invoke(command, env)
        assert ticked.exit_code == 0, ticked.output


@pytest.mark.usefixtures("restore_root_logger")
def test_serve_with_workers_refuses_the_demo_before_they_start(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fuqing serve --workers 2` exits 1 with the message before it starts any worker."""
    if database.is_sqlite:
        pytest.skip("--workers needs PostgreSQL")
    _seed_demo(database, monkeypatch)
    result = invoke(["serve", "--workers", "2"], _production_env(database, tmp_path))
    assert result.exit_code == 1
    assert "production refuses to start" in result.output and "'city'" in result.output
