"""Field encryption: the format, the keys, the column types and migrations 0004 and 0005."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select as select_columns
from sqlalchemy import text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlmodel import Session, SQLModel, select

from storage import crypto, repo
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import NAME_COLUMN, PHONE_COLUMN, DialogueSession, HelpRequest, Invite, User
from tests.conftest import TEST_SECRET_KEY
from tests.factories import help_request

NOW = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)


def test_round_trip_with_a_fresh_nonce_each_time() -> None:
    """A value decrypts to itself; the same value encrypts differently each time."""
    keys = crypto.Keyring("k1")
    first, second = keys.encrypt("13800138000"), keys.encrypt("13800138000")
    assert first != second
    assert keys.decrypt(first) == keys.decrypt(second) == "13800138000"
    assert "13800138000" not in first
    assert keys.decrypt(keys.encrypt("")) == ""
    assert keys.decrypt(keys.encrypt("王秀英")) == "王秀英"


def test_stored_form_names_the_key() -> None:
    """A stored value is fq1:<key id>:<payload>; the key id is the same for the same secret."""
    stored = crypto.Keyring("k1").encrypt("x")
    prefix, key_id, _payload = stored.split(":", 2)
    assert prefix == "fq1" and key_id == crypto.derive("k1").key_id
    assert crypto.key_id_of(stored) == key_id
    assert crypto.derive("k2").key_id != key_id
    assert crypto.key_id_of("13800138000") is None


def test_unknown_key_is_a_clear_error() -> None:
    """A value under another key raises UnknownKey naming both key ids and the way out."""
    stored = crypto.Keyring("old secret").encrypt("13800138000")
    with pytest.raises(crypto.UnknownKey) as raised:
        crypto.Keyring("new secret").decrypt(stored)
    message = str(raised.value)
    assert crypto.derive("old secret").key_id in message
    assert crypto.derive("new secret").key_id in message
    assert "rotate-key" in message and "old secret" not in message


def test_old_key_decrypts_but_the_current_one_writes() -> None:
    """With an old key configured, both keys' values read; new values use the current key."""
    old = crypto.Keyring("old secret").encrypt("13800138000")
    keys = crypto.Keyring("new secret", old=["old secret"])
    assert keys.decrypt(old) == "13800138000"
    assert crypto.key_id_of(keys.encrypt("x")) == crypto.derive("new secret").key_id


def test_plaintext_and_tampering_are_refused() -> None:
    """A plaintext value or a changed payload in an encrypted column raises UnknownKey."""
    keys = crypto.Keyring("k1")
    with pytest.raises(crypto.UnknownKey, match="not ciphertext"):
        keys.decrypt("13800138000")
    stored = keys.encrypt("13800138000")
    tampered = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(crypto.UnknownKey, match="does not decrypt"):
        keys.decrypt(tampered)


def test_empty_secret_is_refused() -> None:
    """An empty FUQING_SECRET_KEY cannot derive a key."""
    with pytest.raises(ValueError, match="FUQING_SECRET_KEY"):
        crypto.derive("")


def test_not_configured_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before `configure`, reading or writing an encrypted field raises KeyNotConfigured."""
    monkeypatch.setattr(crypto, "_keyring", None)
    with pytest.raises(crypto.KeyNotConfigured, match="configure"):
        crypto.keyring()


def test_columns_are_wide_enough() -> None:
    """The widest ciphertext of a 64-character name and a 32-character phone fits its column."""
    assert crypto.ciphertext_length(64) <= NAME_COLUMN
    assert crypto.ciphertext_length(32) <= PHONE_COLUMN
    longest = crypto.Keyring("k").encrypt("\U0001f600" * 64)
    assert len(longest) == crypto.ciphertext_length(64)


def test_sql_comparison_of_an_encrypted_column_is_refused() -> None:
    """`User.phone == x` cannot match randomised ciphertext, so it raises; IS NULL works."""
    with pytest.raises(TypeError, match="encrypted"):
        select(User).where(User.phone == "13800138000")
    select(User).where(User.phone.is_(None))  # type: ignore[union-attr]


def test_contact_fields_are_ciphertext_at_rest(database: Database) -> None:
    """Phone and name are read back in clear through the models but stored as ciphertext."""
    with database.transaction() as session:
        _identity, user, _new = repo.get_or_create_identity(
            session, channel="api", external_id="u1", now=NOW
        )
        user.name, user.phone = "王秀英", "13800138000"
        unit = repo.unit_by_path(session, path="朝阳区/双井街道")
        assert unit is not None
        invite = repo.create_invite(session, unit=unit, name="张干部", now=NOW)
        request = help_request(session, phone="13912345678", requester_id=user.id, now=NOW)
        ids = (user.id, invite.id, request.id)
    with database.read() as session:
        raw = [
            session.execute(text(sql), {"id": id_}).one()
            for sql, id_ in zip(
                (
                    "SELECT name, phone FROM users WHERE id = :id",
                    "SELECT name FROM invites WHERE id = :id",
                    "SELECT phone FROM help_requests WHERE id = :id",
                ),
                ids,
                strict=True,
            )
        ]
        stored = [value for row in raw for value in row]
        assert all(crypto.key_id_of(v) == crypto.derive(TEST_SECRET_KEY).key_id for v in stored)
        assert not {"王秀英", "13800138000", "张干部", "13912345678"} & set(stored)
        user_row = session.get(User, ids[0])
        assert user_row is not None and (user_row.name, user_row.phone) == ("王秀英", "13800138000")
        invite_row = session.get(Invite, ids[1])
        assert invite_row is not None and invite_row.name == "张干部"
        request_row = session.get(HelpRequest, ids[2])
        assert request_row is not None and request_row.phone == "13912345678"


def test_reading_under_another_key_fails_clearly(database: Database) -> None:
    """Rows written under one key and read with another configured raise UnknownKey."""
    with database.transaction() as session:
        _identity, user, _new = repo.get_or_create_identity(
            session, channel="api", external_id="u1", now=NOW
        )
        user.phone = "13800138000"
        user_id = user.id
    crypto.configure("another secret")
    with database.read() as session, pytest.raises(crypto.UnknownKey, match="rotate-key"):
        session.get(User, user_id)


def test_migration_0004_encrypts_existing_rows(empty_database: Database) -> None:
    """Rows written in clear before 0004 are encrypted by it and read back the same."""
    db = empty_database
    with db.engine.connect() as connection, connection.begin():
        command.upgrade(alembic_config(db, connection), "0003")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO org_units (id, name, level, aliases, path) "
                "VALUES (1000, '测试区', 'district', '[]', '测试区')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO users (id, role, name, phone, created_at) "
                "VALUES (1000, 'resident', '王秀英', '13800138000', :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO invites (code, unit_id, name, created_at) "
                "VALUES ('ABCDEFGH', 1000, '张干部', :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO help_requests (code, requester_id, source, unit_id, status, need, "
                '"primary", categories, crisis, contact, phone, created_at, updated_at) '
                "VALUES ('ABCDEF', 1000, 'chat', 1000, 'new', '求助', 'jobs', '[\"jobs\"]', "
                "false, 'phone', '13912345678', :now, :now)"
            ),
            {"now": NOW},
        )
    upgrade(db)
    with db.read() as session:
        raw = session.execute(
            text(
                "SELECT u.name, u.phone, i.name, r.phone FROM users u "
                "JOIN invites i ON i.unit_id = 1000 JOIN help_requests r ON r.requester_id = u.id"
            )
        ).one()
        assert all(crypto.key_id_of(v) is not None for v in raw)
        user = session.get(User, 1000)
        assert user is not None and (user.name, user.phone) == ("王秀英", "13800138000")
        request = session.exec(select(HelpRequest)).one()
        assert request.phone == "13912345678" and request.requester_id == 1000
        invite = session.exec(select(Invite)).one()
        assert invite.name == "张干部"
    assert upgrade(db) == 0  # again: nothing left to encrypt, nothing to seed


# ----------------------------------------------------------------------------- free texts (0005)

STORY = "他又喝醉了打我，我想带孩子走，电话13800138000"
# Every column 0005 encrypts, with a value holding her words (docs/privacy.md lists the same).
TEXTS = {
    ("help_requests", "need"): STORY,
    ("help_requests", "resolution"): "已联系她" + STORY[:4],
    ("help_requests", "rating_note"): "谢谢" + STORY[:4],
    ("help_request_events", "note"): "备注" + STORY[:4],
    ("visits", "notes"): "走访：" + STORY,
    ("outbox", "text"): "新求助：" + STORY,
    ("outbox", "last_error"): "48001 " + STORY[:4],
    ("inbound_messages", "text"): STORY,
    ("quarterly_reports", "remark"): "说明" + STORY[:4],
    ("quarterly_reports", "review_comment"): "退回" + STORY[:4],
}
DOCUMENTS = {
    ("dialogue_sessions", "data"): {"run": {"slots": {"need": STORY, "phone": "13800138000"}}},
    ("inbound_messages", "reply"): [{"text": "您说：" + STORY, "choices": [], "urgent": False}],
    ("quarterly_reports", "figures"): {"examples": [{"notes": STORY}], "visits": 3},
}


def test_documents_are_one_ciphertext_each() -> None:
    """A JSON document is serialised compactly and encrypted once; it reads back equal."""
    document = DOCUMENTS[("dialogue_sessions", "data")]
    column = crypto.EncryptedJSON()
    stored = column.process_bind_param(document, sqlite_dialect())
    assert stored is not None and stored.count("fq1:") == 1 and STORY not in stored
    assert column.process_result_value(stored, sqlite_dialect()) == document
    assert len(stored) == crypto.stored_length(
        json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    )
    assert crypto.stored_length("{}") < crypto.stored_length('{"a":1}')


def _rows_with_her_words(session: Session) -> None:
    """One row in each table 0005 encrypts, through the repository, holding her words."""
    _identity, user, _new = repo.get_or_create_identity(
        session, channel="api", external_id="u1", now=NOW
    )
    user_id = user.id or 0
    request = help_request(session, need=STORY, requester_id=user_id, now=NOW)
    repo.set_status(
        session,
        request=request,
        status="resolved",
        actor_id=None,
        note=TEXTS[("help_requests", "resolution")],
        now=NOW,
        resolution=TEXTS[("help_requests", "resolution")],
    )
    request.rating_note = TEXTS[("help_requests", "rating_note")]
    repo.add_event(
        session,
        request=request,
        kind="note",
        actor_id=None,
        note=TEXTS[("help_request_events", "note")],
        now=NOW,
    )
    repo.create_visit(
        session,
        cadre_id=user_id,
        unit_id=request.unit_id,
        on=NOW.date(),
        district=None,
        street=None,
        community=None,
        visit_form=None,
        whom="王某",
        people=1,
        focus=[],
        notes=TEXTS[("visits", "notes")],
        primary=None,
        categories=[],
        help_request_id=None,
        now=NOW,
    )
    push = repo.enqueue(session, user_id=user_id, text=TEXTS[("outbox", "text")], now=NOW)
    assert push is not None
    repo.mark_failed(
        session, row=push, error=TEXTS[("outbox", "last_error")], now=NOW, retry_at=None
    )
    message = repo.record_inbound(
        session, channel="api", msg_id="m1", user_id=user_id, kind="text", text=STORY, now=NOW
    )
    repo.set_reply(session, message_id=message, reply=DOCUMENTS[("inbound_messages", "reply")])
    dialogue = repo.load_dialogue(session, user_id=user_id, now=NOW)
    repo.save_dialogue(
        session,
        dialogue=dialogue,
        flow="help_request",
        state="phone",
        data=DOCUMENTS[("dialogue_sessions", "data")],
        now=NOW,
    )
    report = repo.report_for(session, unit_id=request.unit_id, quarter="2026Q1", now=NOW)
    repo.submit_report(
        session,
        report=report,
        figures=DOCUMENTS[("quarterly_reports", "figures")],
        remark=TEXTS[("quarterly_reports", "remark")],
        by=user_id,
        now=NOW,
    )
    repo.review_report(
        session,
        report=report,
        accept=False,
        comment=TEXTS[("quarterly_reports", "review_comment")],
        now=NOW,
    )
    session.add(request)


def _stored(session: Session, table: str, column: str) -> list[str]:
    return [
        value
        for (value,) in session.execute(text(f"SELECT {column} FROM {table}")).all()
        if value is not None
    ]


def test_free_texts_and_documents_are_ciphertext_at_rest(database: Database) -> None:
    """Her story, notes, pushes, messages, dialogue slots and summaries are stored as ciphertext
    (her words and phone appear in no column) and read back in clear through the repository."""
    with database.transaction() as session:
        _rows_with_her_words(session)
    key_id = crypto.derive(TEST_SECRET_KEY).key_id
    with database.read() as session:
        for table, column in [*TEXTS, *DOCUMENTS]:
            values = _stored(session, table, column)
            assert values, (table, column)
            assert all(crypto.key_id_of(v) == key_id for v in values), (table, column)
            assert not [v for v in values if "13800138000" in v or STORY[:6] in v]
            model = next(m for m in SQLModel.metadata.sorted_tables if m.name == table)
            read = [row[0] for row in session.execute(select_columns(model.c[column])).all()]
            assert (TEXTS | DOCUMENTS)[(table, column)] in read, (table, column)


def test_migration_0005_encrypts_existing_rows_and_downgrades(empty_database: Database) -> None:
    """Texts and JSON documents written in clear before 0005 are encrypted by it and read back
    the same; a downgrade to 0004 gives the plaintext and the JSON columns back."""
    db = empty_database
    with db.engine.connect() as connection, connection.begin():
        command.upgrade(alembic_config(db, connection), "0004")
    with db.engine.begin() as connection:
        tables = sa.MetaData()
        tables.reflect(connection)
        rows = _plain_rows_of_0004()
        for table, values in rows:
            connection.execute(tables.tables[table].insert().values(values))
    upgrade(db)
    expected = {**TEXTS, **DOCUMENTS}
    with db.read() as session:
        for table, column in expected:
            [stored] = _stored(session, table, column)
            assert crypto.key_id_of(stored) is not None, (table, column)
            model = next(m for m in SQLModel.metadata.sorted_tables if m.name == table)
            [(read,)] = session.execute(select_columns(model.c[column])).all()
            assert read == expected[(table, column)], (table, column)
    with db.engine.connect() as connection, connection.begin():
        command.downgrade(alembic_config(db, connection), "0004")
    with db.engine.begin() as connection:
        tables = sa.MetaData()
        tables.reflect(connection)
        for table, column in expected:
            [(value,)] = connection.execute(sa.select(tables.tables[table].c[column])).all()
            assert value == expected[(table, column)], (table, column)
    assert upgrade(db) == 0  # and up again
    with db.read() as session:
        [(data,)] = session.execute(select_columns(DialogueSession.data)).all()
        assert data == DOCUMENTS[("dialogue_sessions", "data")]


def _plain_rows_of_0004() -> list[tuple[str, dict[str, Any]]]:
    """Rows as a 0004 database held them: texts and JSON in clear (those of TEXTS and DOCUMENTS
    added to each table's other required columns)."""
    at, user, unit = {"created_at": NOW}, {"user_id": 1000}, {"unit_id": 1000}
    rows: list[tuple[str, dict[str, Any]]] = [
        ("org_units", {"id": 1000, "name": "测试区", "level": "district", "aliases": [], "path": "测试区"}),
        ("users", {"id": 1000, "role": "resident", **at}),
        ("help_requests", {"id": 1000, "code": "ABCDEF", "requester_id": 1000, "source": "chat", **unit, "status": "resolved", "primary": "jobs", "categories": ["jobs"], "crisis": False, "contact": "chat", "updated_at": NOW, **at}),
        ("help_request_events", {"request_id": 1000, "kind": "note", "at": NOW}),
        ("visits", {"cadre_id": 1000, **unit, "date": NOW.date(), "whom": "王某", "people": 1, "focus": [], "categories": [], **at}),
        ("outbox", {**user, "channel": "api", "urgent": False, "status": "dead", "attempts": 1, "due_at": NOW, **at}),
        ("inbound_messages", {**user, "channel": "api", "msg_id": "m1", "kind": "text", "received_at": NOW}),
        ("dialogue_sessions", {**user, "flow": "help_request", "state": "phone", "version": 3, "updated_at": NOW}),
        ("quarterly_reports", {**unit, "quarter": "2026Q1", "status": "returned", "updated_at": NOW}),
    ]  # fmt: skip
    written = TEXTS | DOCUMENTS
    return [
        (table, values | {c: v for (t, c), v in written.items() if t == table})
        for table, values in rows
    ]
