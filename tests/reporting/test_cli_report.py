"""`fuqing report`: the quarterly summary from the command line, on a SQLite file."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from storage.db import Database
from tests.conftest import cli_env, invoke
from tests.factories import bind_cadre
from tests.reporting.dataset import at, build
from tests.reporting.formulas import INERT, csv_texts, formula_visit, xlsx_texts

pytestmark = pytest.mark.usefixtures("restore_root_logger")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A migrated SQLite file holding the dataset; the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    variables = cli_env(tmp_path)
    assert invoke(["db", "upgrade"], variables).exit_code == 0
    db = Database(variables["FUQING_DATABASE_URL"])
    try:
        with db.transaction() as session:
            build(session)
    finally:
        db.dispose()
    return variables


def test_report_writes_a_docx_that_opens(env: dict[str, str], tmp_path: Path) -> None:
    """`report 2026Q1 --unit 朝阳区 --format docx` writes 2026Q1-朝阳区.docx with its title."""
    result = invoke(["report", "2026Q1", "--unit", "朝阳区", "--format", "docx"], env)
    assert result.exit_code == 0, result.output
    path = tmp_path / "2026Q1-朝阳区.docx"
    assert f"written {path.name}" in result.output
    document = Document(io.BytesIO(path.read_bytes()))
    assert document.paragraphs[0].text == "朝阳区妇联2026年第一季度妇情汇总"
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert {"走访次数", "4", "7.5"} <= cells


def test_report_prints_json_and_writes_other_formats(env: dict[str, str], tmp_path: Path) -> None:
    """Without --format the JSON is printed; --output names the file of an xlsx."""
    printed = invoke(["report", "2026Q1", "--unit", "朝阳区"], env)
    assert printed.exit_code == 0, printed.output
    body = json.loads(printed.output)
    assert body["due_date"] == "2026-04-10"
    assert body["units"][0]["figures"]["visits"]["total"] == 4
    target = tmp_path / "all.xlsx"
    written = invoke(["report", "2026Q1", "--format", "xlsx", "--output", str(target)], env)
    assert written.exit_code == 0, written.output
    assert target.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize(
    ("args", "read"),
    [
        (["--format", "csv"], csv_texts),
        (["--unit", "朝阳区", "--format", "csv"], csv_texts),
        (["--format", "xlsx"], xlsx_texts),
        (["--unit", "朝阳区", "--format", "xlsx"], xlsx_texts),
    ],
)
def test_report_files_write_formulas_as_inert_text(
    env: dict[str, str], tmp_path: Path, args: list[str], read: Callable[[bytes], set[Any]]
) -> None:
    """Focus groups typed as spreadsheet formulas leave `report`'s CSV and XLSX files quoted,
    never as live formulas."""
    db = Database(env["FUQING_DATABASE_URL"])
    try:
        with db.transaction() as session:
            cadre = bind_cadre(session, name="赵干部", external_id="cadre-zhao", now=at(2026, 1, 2))
            formula_visit(session, cadre)
    finally:
        db.dispose()
    target = tmp_path / "out"
    result = invoke(["report", "2026Q1", *args, "--output", str(target)], env)
    assert result.exit_code == 0, result.output
    assert read(target.read_bytes()) >= INERT


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "2026Q7"], "not a quarter"),
        (["report", "2026Q1", "--format", "docx"], "--unit"),
        (["report", "2026Q1", "--unit", "火星区"], "no district-level unit"),
        (["report", "2026Q1", "--format", "pdf"], "--format takes"),
        (["report", "2026Q1", "--output", "/nonexistent-dir/x.json"], "cannot write"),
    ],
)
def test_report_refuses_bad_arguments(env: dict[str, str], args: list[str], message: str) -> None:
    """A bad quarter, a docx without a unit, an unknown unit or format exit 1 with a reason."""
    result = invoke(args, env)
    assert result.exit_code == 1
    assert message in result.output


def test_report_makes_the_city_summary(env: dict[str, str], tmp_path: Path) -> None:
    """`report 2026Q1 --unit 北京市 --format docx` writes the city's summary: its title, every
    district's row, and 朝阳区's figures among them."""
    result = invoke(["report", "2026Q1", "--unit", "北京市", "--format", "docx"], env)
    assert result.exit_code == 0, result.output
    document = Document(io.BytesIO((tmp_path / "2026Q1-北京市.docx").read_bytes()))
    assert document.paragraphs[0].text == "北京市妇联2026年第一季度妇情汇总"
    assert "各区情况" in "\n".join(p.text for p in document.paragraphs)
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for t in document.tables for r in t.rows}
    assert rows["朝阳区"][:3] == ["4", "9", "7"] and rows["延庆区"][:3] == ["0", "0", "0"]
    printed = invoke(["report", "2026Q1", "--unit", "全市"], env)
    body = json.loads(printed.output)["units"][0]["figures"]
    assert body["part"] == "district" and len(body["parts"]) == 16
