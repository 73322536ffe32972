"""Console login, sessions and CSRF (`bot/console/auth.py`), and `fuqing staff`, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.console.auth import PRE_COOKIE, SESSION_COOKIE, hasher, safe_next
from bot.engine import Engine
from storage import repo
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import Clock, cli_env, served
from tests.console.sessions import PASSWORD, csrf_of, logged_in, login, make_staff


async def test_login_sets_a_session_and_goes_on(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The right password: a 303 to `next` and an HttpOnly, SameSite=Lax, 8-hour session cookie."""
    make_staff(database, "chaoyang")
    answer = await login(client, "chaoyang", next_url="/console/requests?status=new")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/requests?status=new"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert "Path=/console" in cookie
    page = await client.get("/console/requests")
    assert page.status_code == 200 and "chaoyang" in page.text and "朝阳区妇联" in page.text
    with database.read() as session:
        account = repo.staff_by_username(session, username="chaoyang")
        assert account is not None and account.last_login_at is not None


@pytest.mark.parametrize(
    "username,password", [("chaoyang", "wrong-password"), ("nobody", PASSWORD)]
)
async def test_wrong_credentials_show_the_form_again(
    client: httpx.AsyncClient, database: Database, username: str, password: str
) -> None:
    """A wrong password or an unknown user: the form again with one error, and no session."""
    make_staff(database, "chaoyang")
    answer = await login(client, username, password)
    assert answer.status_code == 401
    assert "用户名或密码不对" in answer.text and 'name="password"' in answer.text
    assert SESSION_COOKIE not in client.cookies
    assert (await client.get("/console/requests")).status_code == 303


async def test_unknown_user_is_verified_against_a_dummy_hash(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown username still costs one argon2 verification (no timing oracle)."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, stored: str, password: str) -> bool:
        calls.append(stored)
        return real(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    await login(client, "nobody", PASSWORD)
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


async def test_login_needs_the_forms_csrf_token(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Posting the login form without its token, or with another one, is refused with 403."""
    make_staff(database, "chaoyang")
    await client.get("/console/login")
    form = {"username": "chaoyang", "password": PASSWORD}
    assert (await client.post("/console/login", data=form)).status_code == 403
    wrong = await client.post("/console/login", data={**form, "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert SESSION_COOKIE not in client.cookies


async def test_logged_out_pages_redirect_to_login(client: httpx.AsyncClient) -> None:
    """Without a session the console answers 303 to the login form, remembering the page."""
    answer = await client.get("/console/requests?status=new")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=/console/requests%3Fstatus%3Dnew"
    assert (await client.get("/console/requests/ABC234")).status_code == 303


async def test_session_expires_after_eight_hours(
    client: httpx.AsyncClient, database: Database, engine: Engine, clock: Clock
) -> None:
    """The signed session is good for 8 hours by the app's clock, then it is back to login."""
    make_staff(database, "chaoyang")
    await logged_in(client, "chaoyang")
    clock.advance(hours=7, minutes=59)
    assert (await client.get("/console/requests")).status_code == 200
    clock.advance(minutes=2)
    answer = await client.get("/console/requests")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")


async def test_logout_ends_the_session_even_for_a_copied_cookie(
    client: httpx.AsyncClient, database: Database, engine: Engine, clock: Clock
) -> None:
    """Logging out deletes the cookie, and the old cookie no longer opens a page."""
    make_staff(database, "chaoyang")
    token = await logged_in(client, "chaoyang")
    copied = client.cookies[SESSION_COOKIE]
    clock.advance(seconds=5)
    answer = await client.post("/console/logout", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    assert SESSION_COOKIE not in client.cookies
    assert "已退出登录" in (await client.get("/console/login")).text
    client.cookies.set(SESSION_COOKIE, copied, path="/console")
    assert (await client.get("/console/requests")).status_code == 303
    clock.advance(seconds=5)
    client.cookies.clear()
    await logged_in(client, "chaoyang")  # a new login works again


async def test_logout_voids_a_session_issued_in_the_same_second(
    client: httpx.AsyncClient, database: Database, engine: Engine, clock: Clock
) -> None:
    """A session issued in the very second of the logout is void too; a login right after it
    (same second again) works."""
    make_staff(database, "chaoyang")
    token = await logged_in(client, "chaoyang")
    copied = client.cookies[SESSION_COOKIE]
    assert (await client.post("/console/logout", data={"csrf_token": token})).status_code == 303
    client.cookies.set(SESSION_COOKIE, copied, path="/console")
    assert (await client.get("/console/requests")).status_code == 303
    client.cookies.clear()
    await logged_in(client, "chaoyang")


async def test_the_login_forms_token_is_refused_after_login(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Login makes a new CSRF token: the login form's (pre-session) token, even with its
    cookie tossed back in, posts nothing once she is logged in."""
    make_staff(database, "chaoyang")
    form = await client.get("/console/login")
    pre_token = csrf_of(form.text)
    pre_cookie = client.cookies[PRE_COOKIE]
    token = await logged_in(client, "chaoyang")
    assert token != pre_token
    client.cookies.set(PRE_COOKIE, pre_cookie, path="/console")  # cookie tossing
    refused = await client.post("/console/logout", data={"csrf_token": pre_token})
    assert refused.status_code == 403
    header = await client.post("/console/logout", headers={"X-CSRF-Token": pre_token})
    assert header.status_code == 403
    assert (await client.get("/console/requests")).status_code == 200


async def test_a_session_voided_elsewhere_does_not_block_the_login_form(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Her cookie's session ended by a logout on another device: the login form (its
    pre-session token) still logs her in."""
    make_staff(database, "chaoyang")
    await logged_in(client, "chaoyang")
    stale = client.cookies[SESSION_COOKIE]
    token = csrf_of((await client.get("/console/requests")).text)
    assert (await client.post("/console/logout", headers={"X-CSRF-Token": token})).is_redirect
    client.cookies.set(SESSION_COOKIE, stale, path="/console")
    assert (await login(client, "chaoyang")).status_code == 303


async def test_an_old_cookie_with_the_login_forms_token_cannot_log_her_out(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A session cookie ended by a logout, posted to logout with a login form's token, ends
    nothing: her live session elsewhere goes on."""
    make_staff(database, "chaoyang")
    token = await logged_in(client, "chaoyang")
    old = client.cookies[SESSION_COOKIE]
    assert (await client.post("/console/logout", headers={"X-CSRF-Token": token})).is_redirect
    await logged_in(client, "chaoyang")  # her live session
    live = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    form = csrf_of((await client.get("/console/login")).text)
    client.cookies.set(SESSION_COOKIE, old, path="/console")
    assert (await client.post("/console/logout", data={"csrf_token": form})).status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, live, path="/console")
    assert (await client.get("/console/requests")).status_code == 200


@pytest.mark.parametrize("env", ["test", "production"])
async def test_cookies_are_secure_in_production_whatever_the_scheme(
    settings: Settings, engine: Engine, database: Database, env: str
) -> None:
    """In production every console cookie is Secure even over http (TLS ends at the proxy);
    elsewhere only over https. Always HttpOnly, SameSite=Lax."""
    make_staff(database, "chaoyang")
    secrets = {"secret_key": "k" * 32, "api_token": "a" * 32, "admin_token": "b" * 32}
    configured = settings.model_copy(update={"env": env, **secrets})
    async with served(configured, engine) as app:  # over http://
        form = await app.http.get("/console/login")
        pre = form.headers["set-cookie"].split(";", 1)[0]  # a client keeps Secure ones for https
        answer = await app.http.post(
            "/console/login",
            data={"username": "chaoyang", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            headers={"Cookie": pre},
        )
    assert answer.status_code == 303
    cookies = [*form.headers.get_list("set-cookie"), *answer.headers.get_list("set-cookie")]
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert {PRE_COOKIE, SESSION_COOKIE} <= names
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie, cookie
        assert ("Secure" in cookie) == (env == "production"), cookie


@pytest.mark.parametrize("sent", [None, "forged"])
async def test_posts_need_the_sessions_csrf_token(
    client: httpx.AsyncClient, database: Database, sent: str | None
) -> None:
    """A logged-in POST without the token, or with a wrong one, is refused with 403."""
    make_staff(database, "chaoyang")
    await logged_in(client, "chaoyang")
    data = {} if sent is None else {"csrf_token": sent}
    assert (await client.post("/console/logout", data=data)).status_code == 403
    header = await client.post("/console/logout", headers={"X-CSRF-Token": sent or ""})
    assert header.status_code == 403
    assert (await client.get("/console/requests")).status_code == 200


async def test_csrf_token_may_come_as_a_header(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The X-CSRF-Token header carries the token as well as the form field does."""
    make_staff(database, "chaoyang")
    token = await logged_in(client, "chaoyang")
    answer = await client.post("/console/logout", headers={"X-CSRF-Token": token})
    assert answer.status_code == 303


async def test_old_hash_parameters_are_upgraded_on_login(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A hash made with weaker argon2 parameters is replaced by a current one at login."""
    make_staff(database, "chaoyang")
    with database.read() as session:
        account = repo.staff_by_username(session, username="chaoyang")
        assert account is not None
        before = account.password_hash
    assert hasher().check_needs_rehash(before)
    assert (await login(client, "chaoyang")).status_code == 303
    with database.read() as session:
        account = repo.staff_by_username(session, username="chaoyang")
        assert account is not None
    assert account.password_hash != before
    assert not hasher().check_needs_rehash(account.password_hash)
    hasher().verify(account.password_hash, PASSWORD)


async def test_login_page_skips_the_form_when_logged_in(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Opening the login form with a live session goes straight on to `next`."""
    make_staff(database, "chaoyang")
    await logged_in(client, "chaoyang")
    answer = await client.get("/console/login?next=/console/requests")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/requests"


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/console/requests?page=2", "/console/requests?page=2"),
        ("https://evil.example/", "/console"),
        ("//evil.example/console", "/console"),
        ("/consolex", "/console"),
        ("/console/../x", "/console"),
        ("/console?x=1", "/console?x=1"),
        ("/console/requests\r\nSet-Cookie: x", "/console"),
        ("/console/login", "/console"),
        (None, "/console"),
    ],
)
def test_next_stays_inside_the_console(target: str | None, expected: str) -> None:
    """After login only console paths are followed; anything else goes to the console's home."""
    assert safe_next(target) == expected


async def test_base_page_has_the_navigation(client: httpx.AsyncClient, database: Database) -> None:
    """Every logged-in page has the top navigation, a logout form and the stylesheet."""
    make_staff(database, "city", "北京市")
    await logged_in(client, "city")
    page = (await client.get("/console/requests")).text
    for label, href in [
        ("首页", "/console"),
        ("求助队列", "/console/requests"),
        ("走访日记", "/console/visits"),
        ("季度汇总", "/console/quarters"),
        ("组织与邀请", "/console/org"),
        ("推送", "/console/outbox"),
    ]:
        assert f'href="{href}"' in page and label in page
    assert 'action="/console/logout"' in page and "退出" in page
    css = await client.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await client.get("/console/static/..%2Fauth.py")).status_code == 404
    assert csrf_of(page)


# ----------------------------------------------------------------------------- fuqing staff


@pytest.fixture
def migrated_env(tmp_path: Path, restore_root_logger: None) -> dict[str, str]:
    """A migrated SQLite file for the CLI."""
    env = cli_env(tmp_path)
    db = Database(env["FUQING_DATABASE_URL"])
    upgrade(db)
    db.dispose()
    return env


def test_staff_add_creates_an_account(migrated_env: dict[str, str]) -> None:
    """`fuqing staff add` hashes the password, binds the unit, says what it made; `list` shows it."""
    runner = CliRunner()
    made = runner.invoke(
        app, ["staff", "add", "wang", "--unit", "朝阳区", "--password", PASSWORD], env=migrated_env
    )
    assert made.exit_code == 0, made.output
    assert "wang" in made.output and "朝阳区妇联" in made.output and "北京市/朝阳区" in made.output
    city = runner.invoke(
        app, ["staff", "add", "li", "--unit", "北京市", "--password", PASSWORD], env=migrated_env
    )
    assert city.exit_code == 0 and "北京市妇联" in city.output
    listed = runner.invoke(app, ["staff", "list"], env=migrated_env)
    assert listed.exit_code == 0
    assert (
        "wang\t北京市/朝阳区\tactive\tlast login never" in listed.output
        and "li\t北京市" in listed.output
    )
    db = Database(migrated_env["FUQING_DATABASE_URL"])
    try:
        with db.read() as session:
            account = repo.staff_by_username(session, username="wang")
            assert account is not None and account.password_hash.startswith("$argon2id$")
            assert PASSWORD not in account.password_hash
    finally:
        db.dispose()


@pytest.mark.parametrize(
    "args,problem",
    [
        (["wang", "--unit", "火星区", "--password", PASSWORD], "no org unit"),
        (["wang", "--unit", "朝阳区", "--password", "short7!"], "at least 8"),
    ],
)
def test_staff_add_refuses_bad_input(
    migrated_env: dict[str, str], args: list[str], problem: str
) -> None:
    """An unknown unit or a password under 8 characters creates nothing."""
    runner = CliRunner()
    answer = runner.invoke(app, ["staff", "add", *args], env=migrated_env)
    assert answer.exit_code == 1 and problem in answer.output
    assert "no staff accounts" in runner.invoke(app, ["staff", "list"], env=migrated_env).output


def test_staff_add_refuses_a_taken_username(migrated_env: dict[str, str]) -> None:
    """Usernames are unique: a second `staff add` with the same name fails."""
    runner = CliRunner()
    args = ["staff", "add", "wang", "--unit", "朝阳区", "--password", PASSWORD]
    assert runner.invoke(app, args, env=migrated_env).exit_code == 0
    again = runner.invoke(app, args, env=migrated_env)
    assert again.exit_code == 1 and "taken" in again.output


def test_staff_duty_marks_and_links_an_account(migrated_env: dict[str, str]) -> None:
    """`staff add --duty` and `staff duty NAME on|off [--chat CHANNEL:ID]` set the duty flag
    and the chat link; `staff list` shows both; an unknown chat address is refused."""
    runner = CliRunner()
    args = ["staff", "add", "li", "--unit", "北京市", "--password", PASSWORD, "--duty"]
    made = runner.invoke(app, args, env=migrated_env)
    assert made.exit_code == 0 and "on duty" in made.output
    assert (
        "li\t北京市\tactive\tlast login never\ton duty"
        in runner.invoke(app, ["staff", "list"], env=migrated_env).output
    )
    unknown = runner.invoke(
        app, ["staff", "duty", "li", "on", "--chat", "wecom:nobody"], env=migrated_env
    )
    assert unknown.exit_code == 1 and "no chat user" in unknown.output
    db = Database(migrated_env["FUQING_DATABASE_URL"])
    try:
        with db.transaction() as session:
            user, _dialogue, _new = repo.user_at(
                session, channel="wecom", external_id="lisi", now=datetime.now(UTC)
            )
            user_id = user.id
        linked = runner.invoke(
            app, ["staff", "duty", "li", "on", "--chat", "wecom:lisi"], env=migrated_env
        )
        assert linked.exit_code == 0 and "console and chat" in linked.output
        off = runner.invoke(app, ["staff", "duty", "li", "off"], env=migrated_env)
        assert off.exit_code == 0 and "off duty" in off.output
        assert (
            "off duty (chat linked)"
            in runner.invoke(app, ["staff", "list"], env=migrated_env).output
        )
        with db.read() as session:
            account = repo.staff_by_username(session, username="li")
            assert account is not None and not account.on_duty and account.user_id == user_id
    finally:
        db.dispose()
