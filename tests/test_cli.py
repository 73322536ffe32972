"""The `fuqing` command line through Typer's CliRunner, on a SQLite file (PostgreSQL where noted)."""

from __future__ import annotations

import json
import os
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select
from typer.testing import CliRunner

from bot.channels.terminal import run_chat
from bot.cli import app
from bot.engine import Engine
from bot.nlp import NLP, PlaceUnit
from bot.nlp.lexicon import DATA_DIR
from storage import repo
from storage.db import Database
from tests.conftest import PG_SKIP_REASON, PG_URL_VARIABLE, TEST_SECRET_KEY, cli_env, invoke

TAXONOMY_KEYS = [
    "text",
    "primary",
    "categories",
    "crisis",
    "safety_check",
    "date",
    "district",
    "street",
    "community",
    "visit_form",
    "focus",
    "phones",
]


pytestmark = pytest.mark.usefixtures("restore_root_logger")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI run: a SQLite file and the data directory in tmp_path."""
    return cli_env(tmp_path)


def test_db_upgrade_reports_revision_and_is_idempotent(env: dict[str, str]) -> None:
    """`db upgrade` prints the revision and seeds the tree once; a second run adds 0 units."""
    first = invoke(["db", "upgrade"], env)
    assert first.exit_code == 0, first.output
    match = re.search(r"database at revision (\w+); org units added: (\d+)", first.output)
    assert match is not None, first.output
    assert int(match.group(2)) > 16
    second = invoke(["db", "upgrade"], env)
    assert second.exit_code == 0, second.output
    assert f"database at revision {match.group(1)}; org units added: 0" in second.output


def test_demo_prints_its_invite_and_is_idempotent(env: dict[str, str]) -> None:
    """`demo` migrates if needed, prints the DEMO2026 invite, and can be run again."""
    first = invoke(["demo"], env)
    assert first.exit_code == 0, first.output
    assert "DEMO2026" in first.output
    second = invoke(["demo"], env)
    assert second.exit_code == 0, second.output
    assert "DEMO2026" in second.output
    assert "console logins (development only): city / chaoyang, password fuqing-demo" in (
        second.output
    )


def test_demo_creates_no_known_passwords_outside_development(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Outside development (here `test`) the demo seeds data but no console account with a
    known password."""
    from storage.db import Database
    from storage.models import StaffAccount

    secrets = {"FUQING_SECRET_KEY": "k", "FUQING_API_TOKEN": "a", "FUQING_ADMIN_TOKEN": "b"}
    result = invoke(["demo"], env | secrets | {"FUQING_ENV": "test"})
    assert result.exit_code == 0, result.output
    assert "console logins" not in result.output
    database = Database(env["FUQING_DATABASE_URL"])
    with database.read() as session:
        assert session.exec(select(StaffAccount)).all() == []
    database.dispose()


def test_demo_refuses_production(env: dict[str, str], tmp_path: Path) -> None:
    """`demo` with FUQING_ENV=production exits 1, says why and what to use, and writes nothing."""
    result = invoke(["demo"], env | {"FUQING_ENV": "production"})
    assert result.exit_code == 1
    assert "does not run with FUQING_ENV=production" in result.output
    assert "DEMO2026" in result.output and "fuqing invite" in result.output
    assert not (tmp_path / "fuqing.db").exists()


def test_invite_prints_a_code_and_refuses_unknown_units(env: dict[str, str]) -> None:
    """`invite <unit> <name>` prints an 8-character code; an unknown unit exits 1 and says so."""
    assert invoke(["db", "upgrade"], env).exit_code == 0
    made = invoke(["invite", "朝阳区/双井街道", "张三"], env)
    assert made.exit_code == 0, made.output
    assert re.fullmatch(r"[A-Za-z0-9]{8}", made.stdout.strip()), made.stdout
    unknown = invoke(["invite", "火星区/不存在街道", "张三"], env)
    assert unknown.exit_code == 1
    assert "no org unit" in unknown.output and "火星区/不存在街道" in unknown.output
    too_long = invoke(["invite", "朝阳区/双井街道", "张" * 65], env)
    assert too_long.exit_code == 1 and "1 to 64 characters" in too_long.output


def test_invite_needs_a_migrated_database(env: dict[str, str]) -> None:
    """On a database never migrated, `invite` exits 1 and says to run `fuqing db upgrade`."""
    result = invoke(["invite", "朝阳区/双井街道", "张三"], env)
    assert result.exit_code == 1 and "fuqing db upgrade" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_nlp_prints_the_taxonomy_object(env: dict[str, str]) -> None:
    """`nlp TEXT --ref` prints one JSON object with date, places and form; TAXONOMY keys first."""
    result = invoke(["nlp", "昨天在朝阳双井九龙社区做了一对一访谈", "--ref", "2026-03-18"], env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, lines
    item = json.loads(lines[0])
    assert list(item)[: len(TAXONOMY_KEYS)] == TAXONOMY_KEYS
    assert item["date"] == "2026-03-17"
    assert (item["district"], item["street"], item["community"]) == (
        "朝阳区",
        "双井街道",
        "九龙社区",
    )
    assert item["visit_form"] == "一对一访谈"


def test_nlp_jsonl_answers_every_line_in_order(env: dict[str, str]) -> None:
    """`nlp --jsonl` answers each input line in order; a line's ref wins; a bad line gets an error."""
    stdin = '{"text": "今天"}\n{"text": "昨天", "ref": "2026-01-01"}\nnot json\n'
    result = invoke(["nlp", "--jsonl", "--ref", "2026-03-18"], env, stdin=stdin)
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert len(items) == 3, result.stdout
    assert [items[0]["date"], items[1]["date"]] == ["2026-03-18", "2025-12-31"]
    assert "error" in items[2] and "date" not in items[2]


# What staff corrected (text, categories, crisis), each shipped reading different: after
# `nlp train` the NLP reads each as staff said.
CORRECTED = [
    ("我家那位最近总是不着家，我心里没底", ("rights",), True),
    ("想请你们帮帮忙，那个事拖了好久", ("relief",), False),
]


def _tiny(rows: list[Any], label: Callable[[Any], str], per_label: int = 8) -> list[Any]:
    """A few short rows of each label: the training code runs in seconds instead of minutes."""
    kept: dict[str, list[Any]] = {}
    for row in rows:
        bucket = kept.setdefault(label(row), [])
        if len(bucket) < per_label and len(row[0]) < 40:
            bucket.append(row)
    return [row for bucket in kept.values() for row in bucket]


def _correct(env: dict[str, str]) -> None:
    """File the CORRECTED texts as jobs requests; 朝阳区's staff correct each."""
    from bot.domain import labels
    from bot.domain.requests import Actor
    from tests.factories import help_request

    database = Database(env["FUQING_DATABASE_URL"])
    now = datetime(2026, 3, 18, 2, tzinfo=UTC)
    with database.transaction() as session:
        unit = repo.unit_by_path(session, path="朝阳区")
        assert unit is not None
        staff = repo.create_staff(session, username="cy", password_hash="x", unit=unit, now=now)
        actor = Actor.console(
            username="cy", unit_id=unit.id or 0, unit_ids=repo.units_below(session, unit=unit)
        )
        for said, categories, crisis in CORRECTED:
            request = help_request(session, need=said, categories=("jobs",), now=now)
            labels.correct(
                session,
                code=request.code,
                actor=actor,
                staff_id=staff.id or 0,
                categories=list(categories),
                crisis=crisis,
                now=now,
            )
    database.dispose()


def test_nlp_train_learns_the_corrections(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, units: list[PlaceUnit]
) -> None:
    """`nlp train` retrains both models with the corrections into FUQING_NLP_MODEL_DIR; the NLP
    loads them and reads the corrected texts as staff said; the shipped weights are untouched.

    The real command trains on all 8,700 shipped rows (one to two and a half minutes); here the
    shipped rows are a few per label, so the same code runs in seconds."""
    from bot.cli import learning
    from bot.nlp.crisis_model import read_training
    from bot.nlp.need_model import read_needs_training

    shipped = {p.name: p.read_bytes() for p in DATA_DIR.glob("*_model.json")}
    monkeypatch.setattr(
        learning,
        "base_rows",
        lambda: (
            _tiny(read_needs_training(), lambda r: r[1][0]),
            _tiny(read_training(), lambda r: r[1]),
        ),
    )
    env = {**env, "FUQING_SECRET_KEY": TEST_SECRET_KEY}
    unmigrated = invoke(["nlp", "train"], env)
    assert unmigrated.exit_code == 1 and "fuqing db upgrade" in unmigrated.output
    assert invoke(["db", "upgrade"], env).exit_code == 0
    nothing = invoke(["nlp", "train"], env)
    assert nothing.output.splitlines()[-2:] == [
        "corrections: 0",
        "nothing to learn: no weights written",
    ]
    _correct(env)
    model_dir = tmp_path / "weights"
    result = invoke(["nlp", "train"], {**env, "FUQING_NLP_MODEL_DIR": str(model_dir)})
    assert result.exit_code == 0, result.output
    assert "corrections: 2" in result.output
    assert re.search(r"before: primary 0/2 = 0\.000, crisis 1/2", result.output), result.output
    assert "after (in-sample): primary 2/2 = 1.000, crisis 2/2 = 1.000" in result.output
    assert sorted(p.name for p in model_dir.iterdir()) == ["crisis_model.json", "needs_model.json"]
    learnt = NLP.load(units, model_dir=model_dir)
    assert all(h.startswith("local:") for h in learnt.model_hashes)
    for said, categories, crisis in CORRECTED:
        found = learnt.analyze(said, date(2026, 3, 18))
        assert (found.primary, found.crisis) == (categories[0], crisis), said
    assert {p.name: p.read_bytes() for p in DATA_DIR.glob("*_model.json")} == shipped


def test_serve_refuses_an_unmigrated_postgresql_schema(env: dict[str, str]) -> None:
    """On PostgreSQL, `serve` on an empty schema exits 1 and says to run `fuqing db upgrade`."""
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    schema = f"cli_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        pg_env = {**env, "FUQING_DATABASE_URL": scoped.render_as_string(hide_password=False)}
        result = invoke(["serve"], pg_env)
        assert result.exit_code == 1, result.output
        assert "fuqing db upgrade" in result.output
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_serve_refuses_placeholder_secrets_in_production(env: dict[str, str]) -> None:
    """`serve` with FUQING_ENV=production and the development secrets exits 1 naming them."""
    result = invoke(["serve"], {**env, "FUQING_ENV": "production"})
    assert result.exit_code == 1, result.output
    assert "FUQING_SECRET_KEY" in result.output


def test_serve_refuses_wechat_without_an_aes_key_in_production(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` in production with a WeChat token but no AES key (plaintext mode, which cannot
    be protected) exits 1 naming FUQING_WECHAT_AES_KEY, and so does an AES key without the
    AppID; the server is never started."""
    served: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **_: served.append(app))
    production = {
        **env,
        "FUQING_ENV": "production",
        "FUQING_SECRET_KEY": secrets.token_urlsafe(32),
        "FUQING_API_TOKEN": secrets.token_urlsafe(32),
        "FUQING_ADMIN_TOKEN": secrets.token_urlsafe(32),
        "FUQING_WECHAT_TOKEN": "Qm7Zt2Xw9Lp4Vr8Kc3Nb6Hy1Jd5Fs0Ga",
    }
    result = invoke(["serve"], production)
    assert result.exit_code == 1, result.output
    assert "FUQING_WECHAT_AES_KEY" in result.output and "plaintext" in result.output
    no_appid = invoke(["serve"], {**production, "FUQING_WECHAT_AES_KEY": "k" * 43})
    assert no_appid.exit_code == 1 and "FUQING_WECHAT_APPID" in no_appid.output
    assert served == []


def test_terminal_chat_runs_a_dialogue(engine: Engine) -> None:
    """The terminal loop sends each line to the engine, prints the replies and stops at exit."""
    lines = iter(["我要求助", "想找份保洁工作", "exit", "never read"])
    prompts: list[str] = []
    written: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(lines)

    run_chat(engine, user="t1", read=read, write=written.append)
    output = "\n".join(written)
    assert "请说说您遇到的困难" in output and "哪个区" in output
    assert len(prompts) == 3
    assert next(lines) == "never read"


def test_terminal_chat_stops_at_end_of_input(engine: Engine) -> None:
    """End of input (Ctrl-D) ends the terminal loop quietly."""
    written: list[str] = []

    def read(_prompt: str) -> str:
        raise EOFError

    run_chat(engine, user="t2", read=read, write=written.append)
    assert written[-1] == ""


def test_chat_as_cadre_starts_a_visit_report(env: dict[str, str]) -> None:
    """`chat --as cadre` talks as the demo cadre: 走访记录 asks the date, then the place."""
    result = invoke(["chat", "--as", "cadre"], env, stdin="走访记录\n今天\nexit\n")
    assert result.exit_code == 0, result.output
    assert "演示干部" in result.output
    assert "哪天走访的" in result.output and "在哪里走访的" in result.output
    assert result.output.index("哪天走访的") < result.output.index("在哪里走访的")


def test_wechat_menu_prints_and_pushes(tmp_path: Path) -> None:
    """wechat-menu prints the menu JSON; --push installs it through the (fake) WeChat API."""
    from bot.commands import MENU_KEYS
    from tests.fakes.wechat_server import APPID, SECRET, FakeWeChatServer

    runner = CliRunner()
    shown = runner.invoke(app, ["wechat-menu"])
    assert shown.exit_code == 0
    menu = json.loads(shown.stdout)
    keys = [b.get("key") for b in menu["button"]] + [
        s["key"] for b in menu["button"] for s in b.get("sub_button", [])
    ]
    assert {k for k in keys if k} == set(MENU_KEYS)
    refused = runner.invoke(app, ["wechat-menu", "--push"], env={"FUQING_DATA_DIR": str(tmp_path)})
    assert refused.exit_code == 1
    with FakeWeChatServer() as server:
        env = {
            "FUQING_WECHAT_APPID": APPID,
            "FUQING_WECHAT_SECRET": SECRET,
            "FUQING_WECHAT_API_BASE": server.base_url,
            "FUQING_DATA_DIR": str(tmp_path),
        }
        pushed = runner.invoke(app, ["wechat-menu", "--push"], env=env)
        assert pushed.exit_code == 0, pushed.output
        [create] = server.requests_to("/cgi-bin/menu/create")
        assert create.body == menu


def test_due_date_shows_sets_and_clears_an_override(
    env: dict[str, str], database: Database
) -> None:
    """`due-date` prints the calendar's date, overrides it with a date and a note, then clears it."""
    db_env = {**env, "FUQING_DATABASE_URL": database.url}
    shown = invoke(["due-date", "2026Q3"], db_env)
    assert shown.exit_code == 0, shown.output
    assert "2026Q3 due 2026-10-10 (not overridden" in shown.stdout
    moved = invoke(["due-date", "2026q3", "2026-10-16", "--note", "国庆顺延"], db_env)
    assert moved.exit_code == 0, moved.output
    assert "2026Q3 due 2026-10-16 (overridden: 国庆顺延" in moved.stdout
    with database.read() as session:
        assert repo.due_date_overrides(session) == {"2026Q3": date(2026, 10, 16)}
    again = invoke(["due-date", "2026Q3"], db_env)
    assert "2026Q3 due 2026-10-16 (overridden" in again.stdout
    assert "2026Q1 due 2026-04-10 (not overridden" in invoke(["due-date", "2026Q1"], db_env).stdout
    cleared = invoke(["due-date", "2026Q3", "--clear"], db_env)
    assert cleared.exit_code == 0, cleared.output
    assert "2026Q3 due 2026-10-10 (not overridden" in cleared.stdout
    with database.read() as session:
        assert repo.due_date_overrides(session) == {}


def test_due_date_uses_the_report_due_days_setting(env: dict[str, str], database: Database) -> None:
    """With FUQING_REPORT_DUE_DAYS=15, 2026Q1 is due 2026-04-15 (a Wednesday)."""
    db_env = {**env, "FUQING_DATABASE_URL": database.url, "FUQING_REPORT_DUE_DAYS": "15"}
    shown = invoke(["due-date", "2026Q1"], db_env)
    assert shown.exit_code == 0, shown.output
    assert "2026Q1 due 2026-04-15 (not overridden: 15 days" in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2026Q5"], "not a quarter"),
        (["9999Q4"], "years 2000–2100"),
        (["0001Q1"], "years 2000–2100"),
        (["2026Q1", "2026-4-20"], "YYYY-MM-DD"),
        (["2026Q1", "2026-02-30"], "YYYY-MM-DD"),
        (["2026Q1", "2026-04-20", "--clear"], "not both"),
        (["2026Q1", "--note", "无日期"], "--note goes with a new date"),
    ],
)
def test_due_date_refuses_bad_input(env: dict[str, str], args: list[str], message: str) -> None:
    """A bad quarter or date, a date with --clear, or a note without a date exit 1 and say why."""
    result = invoke(["due-date", *args], env)
    assert result.exit_code == 1, result.output
    assert message in result.output


def test_due_date_needs_a_migrated_database(env: dict[str, str]) -> None:
    """On a database never migrated, `due-date` exits 1 and says to run `fuqing db upgrade`."""
    result = invoke(["due-date", "2026Q1"], env)
    assert result.exit_code == 1, result.output
    assert "fuqing db upgrade" in result.output
