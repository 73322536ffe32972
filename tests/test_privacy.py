"""Personal data: erasure from every table, key rotation, PII and secrets kept out of the logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import String, Text, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from bot.app import create_app
from bot.cli import app as cli_app
from bot.cli.startup import setup_logging
from bot.config import OPTIONAL_SECRETS, PLACEHOLDER_SECRETS, REQUIRED_SECRETS, Settings
from bot.conversation import Conversation
from bot.domain import labels
from bot.domain.quarters import Quarter
from bot.domain.requests import Actor
from bot.nlp import NLP
from bot.reporting.figures import compile_figures
from storage import crypto, repo
from storage.db import Database
from storage.models import Identity, LabelCorrection, Outbox, User
from tests.conftest import TEST_SECRET_KEY, Chat

HER = "oWx9Z_her-openid-7781"  # a WeChat-openid-like address on the api channel
PHONE = "13912345678"
# Not a crisis (a crisis opens an urgent case at once: `test_erasure_of_an_urgent_case`).
NEED = "前夫一直拖欠孩子抚养费，想找律师咨询离婚后孩子抚养费"
DANGER = "前夫常来纠缠，现在就在小区门口堵我，拿着刀说要砍死我"
RATING_WORDS = "律师姐姐特别耐心帮我写了申请书"
HANDOVER_WORDS = "我还想问问孩子转学到双井那边的小学"
ID_NUMBER = "110105199003071234"
_NOW = datetime(2026, 3, 18, 2, tzinfo=UTC)


# ----------------------------------------------------------------------------- erasure


def _file_and_resolve(woman: Chat, officer: Chat) -> str:
    """She files a request with her phone; the cadre takes and resolves it; return its code."""
    woman.run(
        [
            ("我要求助", "请说说您遇到的困难"),
            (NEED, "区"),
            ("朝阳区双井街道", "联系"),
            ("2", "手机号码"),
            (PHONE, "核对"),
        ]
    )
    found = re.search(r"编号 ([A-Z0-9]{6})", woman.say("确认", msg_id=f"{HER}:confirm"))
    assert found
    code = found.group(1)
    assert any(PHONE in p and NEED in p for p in officer.pushed())  # the cadre's alert
    officer.run([(f"受理 {code}", "已受理"), (f"办结 {code} 已约律师为她咨询{NEED[:6]}", "已办结")])
    return code


def _texts_of_every_table(database: Database) -> list[str]:
    """Every text, string and JSON value of every table, decrypted where encrypted."""
    found: list[str] = []
    with database.read() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(table.select()).mappings():
                for column in table.columns:
                    value = row[column.name]
                    if value is None:
                        continue
                    if isinstance(column.type, String | Text):
                        found.append(str(value))
                    elif not isinstance(value, int | float | bool | date):
                        found.append(json.dumps(value, ensure_ascii=False))
    return found


def _staff_corrects(database: Database, code: str) -> None:
    """朝阳区's console staff correct the request's categories (a stored labelled example)."""
    with database.transaction() as session:
        unit = repo.unit_by_path(session, path="朝阳区")
        assert unit is not None
        staff = repo.create_staff(
            session, username="chaoyang", password_hash="x", unit=unit, now=_NOW
        )
        actor = Actor.console(
            username="chaoyang",
            unit_id=unit.id or 0,
            unit_ids=sorted(repo.units_below(session, unit=unit)),
        )
        done = labels.correct(
            session,
            code=code,
            actor=actor,
            staff_id=staff.id or 0,
            categories=["rights", "relief"],
            crisis=None,
            now=_NOW,
        )
        assert NEED in done.correction.text


def test_erasure_leaves_nothing_of_her_and_keeps_the_counts(
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    database: Database,
    nlp: NLP,
) -> None:
    """After 删除我的信息 no table holds her phone, words or address (nor staff's correction of
    her request's labels, which quoted her); the quarter counts her."""
    officer, woman = cadre(), chat(HER)
    code = _file_and_resolve(woman, officer)
    woman.run(
        [
            (f"满意，{RATING_WORDS}", "谢谢您的评价"),
            ("转人工", "人工"),
            (HANDOVER_WORDS, "转给"),
        ]
    )
    with database.transaction() as session:  # a failed push to her names her address
        [row] = [r for r in repo.list_outbox(session) if r.key == f"request:{code}:take"]
        repo.mark_failed(
            session, row=row, error=f"48001 api unauthorized: {HER}", now=row.due_at, retry_at=None
        )
    _staff_corrects(database, code)  # her words become a labelled example of the NLP
    before = _texts_of_every_table(database)
    assert any(PHONE in t for t in before) and any(HER in t for t in before)
    assert any(RATING_WORDS in t for t in before) and any(HANDOVER_WORDS in t for t in before)
    tz = ZoneInfo("Asia/Shanghai")
    quarter = Quarter.of(woman.clock().astimezone(tz).date())
    with database.read() as session:
        unit = repo.unit_by_path(session, path="朝阳区")
        assert unit is not None
        counted = compile_figures(
            session, unit=unit, quarter=quarter, nlp=nlp, tz=tz, now=woman.clock()
        )

    woman.run([("删除我的信息", "确认删除"), ("确认删除", "已删除")])

    after = _texts_of_every_table(database)
    for secret in (PHONE, NEED, RATING_WORDS, HANDOVER_WORDS, HER, NEED[:6]):
        assert not [t for t in after if secret in t], secret
    with database.read() as session:
        assert session.exec(select(Identity).where(Identity.external_id == HER)).first() is None
        assert session.exec(select(LabelCorrection)).all() == []
        users = session.exec(select(User).where(User.role == "resident")).all()
        assert [(u.name, u.phone, u.deleted_at is not None) for u in users] == [(None, None, True)]
        pushes = session.exec(select(Outbox).where(Outbox.user_id == users[0].id)).all()
        assert pushes and all(p.status in ("sent", "dead") for p in pushes)
        unit = repo.unit_by_path(session, path="朝阳区")
        assert unit is not None
        kept = compile_figures(
            session, unit=unit, quarter=quarter, nlp=nlp, tz=tz, now=woman.clock()
        )
    assert kept.requests.received == counted.requests.received == 1
    assert kept.requests.resolved == counted.requests.resolved == 1
    assert kept.needs == counted.needs
    assert "妇情通" in woman.say("你好")  # the same address starts over as a new person


def test_erasure_of_an_urgent_case(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """An urgent case, opened before any consent, holds her words, phone and address; after
    删除我的信息 none of them is left and the case is cancelled."""
    cadre()
    woman = chat(HER)
    woman.run([(DANGER, "110"), (PHONE, "电话已记下"), ("他还在门口", "已补充")])
    before = _texts_of_every_table(database)
    assert any(DANGER in t for t in before) and any(HER in t for t in before)
    woman.run([("删除我的信息", "确认删除"), ("确认删除", "已删除")])
    after = _texts_of_every_table(database)
    for secret in (PHONE, DANGER, "他还在门口", HER):
        assert not [t for t in after if secret in t], secret


FQ_TOKEN = re.compile(rb"fq1:[0-9a-f]{8}:[A-Za-z0-9_-]+")


def _in_the_files(database: Database) -> tuple[bytes, list[str]]:
    """The raw bytes of the SQLite database, its -wal and -shm, and every ciphertext in them
    that decrypts (a value cut by a page boundary does not)."""
    path = make_url(database.url).database
    raw = b"".join(
        p.read_bytes()
        for p in (Path(f"{path}{tail}") for tail in ("", "-wal", "-shm"))
        if p.exists()
    )
    found = (_decrypted(token.decode()) for token in FQ_TOKEN.findall(raw))
    return raw, [plain for plain in found if plain is not None]


def _decrypted(token: str) -> str | None:
    """The plaintext of a ciphertext found in a file, where the next column's bytes may follow
    it without a break (a timestamp's digits): its longest prefix that decrypts."""
    shortest = len(crypto.keyring().encrypt(""))
    for end in range(len(token), shortest - 1, -1):
        try:
            return crypto.keyring().decrypt(token[:end])
        except crypto.UnknownKey:
            continue
    return None


def test_erasure_leaves_nothing_of_her_in_the_database_files(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """After 删除我的信息 the SQLite files — the WAL and its index included — hold neither her
    address (a clear column) nor her phone or words, in clear or in a ciphertext that decrypts."""
    if not database.is_sqlite:
        pytest.skip("the files are SQLite's; docs/privacy.md says what PostgreSQL keeps")
    officer, woman = cadre(), chat(HER)
    _file_and_resolve(woman, officer)
    woman.run(
        [(f"满意，{RATING_WORDS}", "谢谢您的评价"), ("转人工", "人工"), (HANDOVER_WORDS, "转给")]
    )
    secrets = (HER, PHONE, NEED, RATING_WORDS, HANDOVER_WORDS, NEED[:6])
    before = _in_the_files(database)
    assert [s for s in secrets if not _held(before, s)] == []  # what the test looks for is there

    woman.run([("删除我的信息", "确认删除"), ("确认删除", "已删除")])

    after = _in_the_files(database)
    assert [secret for secret in secrets if _held(after, secret)] == []


def _held(files: tuple[bytes, list[str]], secret: str) -> bool:
    """True when the files hold `secret` in clear or in a ciphertext that decrypts."""
    raw, plain = files
    return secret.encode() in raw or any(secret in p for p in plain)


# ----------------------------------------------------------------------------- key rotation


def _write_contacts(database: Database, count: int) -> list[int]:
    """`count` residents with a name and a phone, under the configured key; their ids."""
    ids = []
    with database.transaction() as session:
        for n in range(count):
            _identity, user, _new = repo.get_or_create_identity(
                session, channel="api", external_id=f"r{n}", now=_NOW
            )
            user.name, user.phone = f"居民{n}", f"139{n:08d}"
            session.flush()
            ids.append(user.id or 0)
    return ids


def _key_ids(database: Database) -> set[str | None]:
    with database.read() as session:
        rows = session.execute(text("SELECT name, phone FROM users WHERE phone IS NOT NULL")).all()
    return {crypto.key_id_of(v) for row in rows for v in row}


def _rotate(database: Database, keyring: crypto.Keyring, batch: int) -> repo.Rotated:
    totals = repo.Rotated()
    for target in repo.encrypted_columns():
        last = 0
        while True:
            with database.transaction() as session:
                done = repo.reencrypt_batch(
                    session, target=target, keyring=keyring, after_id=last, limit=batch
                )
            if done.last_id == last:
                break
            last = done.last_id
            totals.rewritten += done.rewritten
            totals.current += done.current
            totals.unreadable += done.unreadable
    return totals


def test_every_encrypted_column_is_rotated() -> None:
    """The columns `rotate-key` re-encrypts are the contact fields, the free texts and the JSON
    documents that hold her words (docs/privacy.md lists the same)."""
    assert {c.label for c in repo.encrypted_columns()} == {
        "users.name",
        "users.phone",
        "invites.name",
        "help_requests.phone",
        "help_requests.address",
        "help_requests.need",
        "help_requests.resolution",
        "help_requests.rating_note",
        "help_request_events.note",
        "visits.notes",
        "outbox.text",
        "outbox.last_error",
        "inbound_messages.text",
        "inbound_messages.reply",
        "dialogue_sessions.data",
        "quarterly_reports.remark",
        "quarterly_reports.review_comment",
        "label_corrections.text",
        "handoff_messages.text",
        "quarterly_reports.figures",
    }


def test_reencrypt_in_batches_is_idempotent(database: Database) -> None:
    """Rows under the old key move to the new one in batches; a second pass rewrites nothing."""
    ids = _write_contacts(database, 7)
    old_id = crypto.derive(TEST_SECRET_KEY).key_id
    assert _key_ids(database) == {old_id}
    keyring = crypto.configure("the new secret", old=TEST_SECRET_KEY)
    first = _rotate(database, keyring, batch=3)
    assert (first.rewritten, first.unreadable) == (14, 0)
    assert _key_ids(database) == {keyring.key_id}
    again = _rotate(database, keyring, batch=3)
    assert (again.rewritten, again.current, again.unreadable) == (0, 14, 0)
    crypto.configure("the new secret")  # the old key is no longer needed
    with database.read() as session:
        user = session.get(User, ids[3])
        assert user is not None and (user.name, user.phone) == ("居民3", "13900000003")


def test_reencrypt_leaves_values_under_an_unknown_key(database: Database) -> None:
    """A value under neither key is counted unreadable and left as it is."""
    [user_id] = _write_contacts(database, 1)
    crypto.configure("a third secret")
    with database.transaction() as session:
        session.execute(
            text("UPDATE users SET phone = :p WHERE id = :id"),
            {"p": crypto.keyring().encrypt("13700000000"), "id": user_id},
        )
    keyring = crypto.configure("the new secret", old=TEST_SECRET_KEY)
    done = _rotate(database, keyring, batch=10)
    assert (done.rewritten, done.unreadable) == (1, 1)


@pytest.mark.usefixtures("restore_root_logger")
def test_rotate_key_command(database: Database) -> None:
    """`fuqing rotate-key --old-key` re-encrypts, prints the counts, and is idempotent."""
    _write_contacts(database, 3)
    env = {"FUQING_ENV": "test", "FUQING_DATABASE_URL": database.url}
    env |= {"FUQING_SECRET_KEY": "new-production-secret", "FUQING_API_TOKEN": "a"}
    env |= {"FUQING_ADMIN_TOKEN": "b", "FUQING_OLD_SECRET_KEY": ""}
    runner = CliRunner()
    first = runner.invoke(cli_app, ["rotate-key", "--old-key", TEST_SECRET_KEY], env=env)
    assert first.exit_code == 0, first.output
    assert "users.phone: 3 re-encrypted, 0 already current, 0 unreadable" in first.output
    assert ": 6 re-encrypted" in first.output
    assert TEST_SECRET_KEY not in first.output and "new-production-secret" not in first.output
    again = runner.invoke(
        cli_app, ["rotate-key"], env=env | {"FUQING_OLD_SECRET_KEY": TEST_SECRET_KEY}
    )
    assert again.exit_code == 0, again.output
    assert ": 0 re-encrypted, 6 already current, 0 unreadable" in again.output
    assert _key_ids(database) == {crypto.derive("new-production-secret").key_id}
    missing = runner.invoke(cli_app, ["rotate-key"], env=env)
    assert missing.exit_code == 1 and "--old-key" in missing.output


# ----------------------------------------------------------------------------- logs


@pytest.fixture
def log_file(tmp_path: Path, restore_root_logger: None) -> Iterator[Path]:
    """The app's logging set-up (bot.cli.startup.setup_logging), its handler writing to a file."""
    path = tmp_path / "fuqing.log"
    setup_logging(Settings(log_level="DEBUG", **SECRETS))  # type: ignore[arg-type]
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    with path.open("a", encoding="utf-8") as stream:
        handler.setStream(stream)
        yield path
        handler.flush()


def _read(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_phones_and_id_numbers_are_masked_in_the_log_file(
    log_file: Path, chat: Callable[..., Chat], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Phones and ID numbers in messages, arguments, tracebacks and the engine's failure log
    reach the log file masked only."""
    log = logging.getLogger("fuqing.test")
    log.info("她的电话 %s，身份证 %s", PHONE, ID_NUMBER)
    log.warning(f"座机 010-87654321 手机 +86 139-1234-5678 {ID_NUMBER.lower()}")
    try:
        raise ValueError(f"bad phone {PHONE} id {ID_NUMBER}")
    except ValueError:
        log.exception("failed for %s", PHONE)

    def explode(self: Conversation, *, is_new: bool) -> list[Any]:
        raise RuntimeError(f"boom on {self.text}")

    monkeypatch.setattr(Conversation, "respond", explode)
    assert "抱歉" in chat("u-log").say(f"我的电话{PHONE}身份证号{ID_NUMBER}")
    written = _read(log_file)
    assert "message failed" in written and "Traceback" in written and "boom on" in written
    for raw in (PHONE, ID_NUMBER, ID_NUMBER.lower(), "87654321", "139-1234-5678"):
        assert raw not in written, raw
    assert "139****5678" in written and "110105********1234" in written


# Strong enough for production (bot.config.secret_weakness): 32 bytes or more, random.
SECRETS = {
    "secret_key": "s3cr3t-key-Zq81-HN2fcKW2rrXFyE5NeEPT3FY8",
    "api_token": "api-tok-Zq82-WGMa1UZXeQpfwVmXhv2Z31dk",
    "admin_token": "admin-tok-Zq83-jBwUJE6QwZKbG9iuhE3BdheO",
    "wechat_token": "wxTokZq84xnRudBrtKe8QyrBY0cx33EL",  # WeChat: at most 32 letters/digits
    "wechat_appid": "wx-appid-Zq85",
    "wechat_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "wechat_secret": "wx-secret-Zq86",
    "wecom_token": "wecomTokZq87JzE3kYJTnKH5pEek0OLf",
    "wecom_secret": "wecom-secret-Zq88",
    "telegram_token": "123456:tg-token-Zq89",
    "telegram_secret": "tg-secret-Zq90-nviQsNJkySuI8YnC47pruUot",
}


async def test_secrets_never_reach_the_log(
    log_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up, a failing message, a refused start and a failing request log no secret."""
    settings = Settings(
        env="production",
        database_url=f"sqlite:///{tmp_path / 'fuqing.db'}",
        data_dir=tmp_path,
        scheduler="off",
        telegram_api_base="http://127.0.0.1:9/bot",
        wechat_api_base="http://127.0.0.1:9",
        **SECRETS,
    )
    app = create_app(settings)  # its start-up builds the services (build_services)
    monkeypatch.setattr(
        Conversation, "respond", lambda self, **_: (_ for _ in ()).throw(RuntimeError(repr(self)))
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            answer = await http.post(
                "/api/v1/messages",
                json={"user": "u1", "text": "你好"},
                headers={"Authorization": f"Bearer {SECRETS['api_token']}"},
            )
            assert answer.status_code == 200
            await http.post("/api/v1/messages", json={"user": "u1", "text": "x"})
            await http.get("/api/v1/help-requests", headers={"Authorization": "Bearer no"})
    weak = Settings(env="production", secret_key="dev-secret-key", api_token=SECRETS["api_token"])
    with pytest.raises(ValueError) as refused:
        weak.check_secrets()
    logging.getLogger("fuqing.test").error("refused: %s", refused.value)
    logging.getLogger("httpx").info(  # tokens in API URLs, even ones not in the settings
        "HTTP Request: GET %s and %s",
        "https://api.weixin.qq.com/cgi-bin/token?appid=x&secret=unlisted-Zq91",
        "https://api.telegram.org/bot999:unlisted-Zq92/sendMessage",
    )
    written = _read(log_file)
    assert "message failed" in written  # the failure was logged, with its traceback
    for name, value in SECRETS.items() | {("url", "unlisted-Zq91"), ("url", "unlisted-Zq92")}:
        assert value not in written, name
    crypto.configure(TEST_SECRET_KEY)


# ----------------------------------------------------------------------------- placeholders


REFUSED = [
    (field, placeholder)
    for field in (*REQUIRED_SECRETS, *OPTIONAL_SECRETS)
    for placeholder in sorted(PLACEHOLDER_SECRETS)
    if placeholder or field in REQUIRED_SECRETS  # an empty channel secret turns the channel off
]
GOOD = {name: SECRETS[name] for name in REQUIRED_SECRETS}


@pytest.mark.parametrize(("field", "placeholder"), REFUSED)
@pytest.mark.parametrize("env", ["test", "production"])
def test_every_placeholder_secret_is_refused_outside_development(
    field: str, placeholder: str, env: str
) -> None:
    """Each secret set to any placeholder stops the start outside development, naming it."""
    settings = Settings(env=env, **(GOOD | {field: placeholder}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"placeholder secrets.*FUQING_{field.upper()}"):
        settings.check_secrets()
    Settings(env="development", **(GOOD | {field: placeholder})).check_secrets()  # type: ignore[arg-type]


def test_empty_channel_secrets_are_off_not_refused() -> None:
    """Empty channel secrets (docker-compose passes '' when unset) mean the channel is off."""
    Settings(env="production", **(GOOD | dict.fromkeys(OPTIONAL_SECRETS, ""))).check_secrets()  # type: ignore[arg-type]
