"""`/api/v1/reports`: quarterly summaries through the staff API, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.engine import Engine
from storage import repo
from storage.db import Database
from storage.models import Outbox
from tests.conftest import ADMIN, Clock
from tests.reporting.dataset import Dataset, at, build
from tests.reporting.formulas import INERT, csv_texts, formula_visit, xlsx_texts

# A summary stored by the code before the typed figures (tests/data/figures_v1.json), with a
# visit count no live compilation gives.
SNAPSHOT_FILE = Path(__file__).parent.parent / "data" / "figures_v1.json"


def _snapshot() -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(SNAPSHOT_FILE.read_text(encoding="utf-8"))
    stored["visits"]["total"] = 99
    return stored


@pytest.fixture
def data(database: Database, engine: Engine, clock: Clock) -> Dataset:
    """The scripted dataset, with the app's clock at 2026-04-12 10:00 Shanghai."""
    clock.now = at(2026, 4, 12)
    with database.transaction() as session:
        return build(session)


def _submit(database: Database, data: Dataset, figures: dict[str, Any] | None = None) -> None:
    with database.transaction() as session:
        report = repo.report_for(
            session, unit_id=data.district.id or 0, quarter="2026Q1", now=at(2026, 4, 9)
        )
        repo.submit_report(
            session,
            report=report,
            figures=figures or _snapshot(),
            remark=None,
            by=data.leader.id,
            now=at(2026, 4, 9),
        )


def _pushes(database: Database, prefix: str) -> list[Outbox]:
    with database.read() as session:
        return list(
            session.exec(
                select(Outbox).where(col(Outbox.key).startswith(prefix)).order_by(col(Outbox.id))
            ).all()
        )


async def test_reports_need_the_admin_token(client: httpx.AsyncClient) -> None:
    """Without the staff bearer token the reports answer 401 JSON."""
    response = await client.get("/api/v1/reports/2026Q1")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_every_district_with_due_date_status_and_figures(
    client: httpx.AsyncClient, data: Dataset
) -> None:
    """All 16 districts, the quarter's due date, a shown and a raw status, live figures."""
    response = await client.get("/api/v1/reports/2026q1", headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert (body["quarter"], body["due_date"]) == ("2026Q1", "2026-04-10")
    assert len(body["units"]) == 16
    chaoyang = next(u for u in body["units"] if u["unit"] == "朝阳区")
    assert chaoyang["due_date"] == "2026-04-10"
    assert (chaoyang["status"], chaoyang["review"], chaoyang["submitted_at"]) == ("overdue", "open", None)  # fmt: skip
    assert chaoyang["figures"]["visits"]["total"] == 4
    assert chaoyang["figures"]["requests"]["median_days_to_resolve"] == 7.5


async def test_one_unit_and_its_snapshot_once_submitted(
    client: httpx.AsyncClient, database: Database, data: Dataset
) -> None:
    """`?unit=` gives one unit; a submitted one shows its stored figures (a row stored before
    the typed figures, answered as it was stored) and submission time."""
    _submit(database, data)
    body = (await client.get("/api/v1/reports/2026Q1?unit=朝阳区", headers=ADMIN)).json()
    assert [u["unit"] for u in body["units"]] == ["朝阳区"]
    entry = body["units"][0]
    assert (entry["status"], entry["review"]) == ("submitted", "submitted")
    assert entry["figures"] == _snapshot()
    assert entry["submitted_at"] == "2026-04-09T10:00:00+08:00"


@pytest.mark.parametrize("quarter", ["2026Q5", "2026-1", "Q1", "9999Q4", "0001Q1"])
async def test_a_bad_quarter_is_422(client: httpx.AsyncClient, quarter: str) -> None:
    """A quarter that does not read as 2026Q1 is a 422 JSON error."""
    response = await client.get(f"/api/v1/reports/{quarter}", headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_quarter"


async def test_an_unknown_unit_is_404(client: httpx.AsyncClient) -> None:
    """A unit that is not a district-level unit is a 404 JSON error, for GET and review."""
    response = await client.get("/api/v1/reports/2026Q1?unit=火星区", headers=ADMIN)
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_unit"
    review = await client.post(
        "/api/v1/reports/2026Q1/双井街道/review", headers=ADMIN, json={"accept": True}
    )
    assert review.status_code == 404


async def test_xlsx_and_csv_of_every_unit(client: httpx.AsyncClient, data: Dataset) -> None:
    """`?format=xlsx` and `csv` return files named 2026Q1.* with one row per district."""
    xlsx = await client.get("/api/v1/reports/2026Q1?format=xlsx", headers=ADMIN)
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="2026Q1.xlsx"' in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 17
    assert "朝阳区" in [c.value for c in sheet["A"]]
    response = await client.get("/api/v1/reports/2026Q1?format=csv&unit=朝阳区", headers=ADMIN)
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["单位"], r["走访次数"]) for r in rows] == [("朝阳区", "4")]


@pytest.mark.parametrize(
    "query", ["format=csv", "format=csv&unit=朝阳区", "format=xlsx", "format=xlsx&unit=朝阳区"]
)
async def test_report_files_write_formulas_as_inert_text(
    client: httpx.AsyncClient, database: Database, data: Dataset, query: str
) -> None:
    """Focus groups typed as spreadsheet formulas (the units' columns, one unit's lines) leave
    the report's CSV and XLSX quoted, never as live formulas."""
    with database.transaction() as session:
        formula_visit(session, data.field_cadre)
    response = await client.get(f"/api/v1/reports/2026Q1?{query}", headers=ADMIN)
    assert response.status_code == 200
    read = csv_texts if query.startswith("format=csv") else xlsx_texts
    assert read(response.content) >= INERT


async def test_docx_needs_a_unit_and_opens(client: httpx.AsyncClient, data: Dataset) -> None:
    """`?format=docx` without a unit is 422; with one, a Word file named 2026Q1-朝阳区.docx."""
    missing = await client.get("/api/v1/reports/2026Q1?format=docx", headers=ADMIN)
    assert missing.status_code == 422
    assert missing.json()["error"] == "unit_required"
    response = await client.get("/api/v1/reports/2026Q1?format=docx&unit=朝阳区", headers=ADMIN)
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert "filename*=UTF-8''2026Q1-%E6%9C%9D%E9%98%B3%E5%8C%BA.docx" in disposition
    document = Document(io.BytesIO(response.content))
    assert document.paragraphs[0].text == "朝阳区妇联2026年第一季度妇情汇总"


async def test_an_unknown_format_is_422(client: httpx.AsyncClient) -> None:
    """Only json, xlsx, csv and docx are formats."""
    response = await client.get("/api/v1/reports/2026Q1?format=pdf", headers=ADMIN)
    assert response.status_code == 422


async def test_reviewing_a_summary_not_submitted_is_409(
    client: httpx.AsyncClient, data: Dataset
) -> None:
    """Only a submitted summary can be accepted or returned."""
    response = await client.post(
        "/api/v1/reports/2026Q1/朝阳区/review", headers=ADMIN, json={"accept": True}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "not_submitted"


async def test_accepting_a_submitted_summary(
    client: httpx.AsyncClient, database: Database, data: Dataset
) -> None:
    """Accepting stores 'accepted', shows it, tells nobody, and a second review is 409."""
    _submit(database, data)
    response = await client.post(
        "/api/v1/reports/2026Q1/朝阳区/review", headers=ADMIN, json={"accept": True}
    )
    assert response.status_code == 200
    assert response.json() == {
        "unit": "朝阳区",
        "quarter": "2026Q1",
        "review": "accepted",
        "status": "accepted",
        "review_comment": None,
        "notified": 0,
    }
    again = await client.post(
        "/api/v1/reports/2026Q1/朝阳区/review", headers=ADMIN, json={"accept": False}
    )
    assert again.status_code == 409
    body = (await client.get("/api/v1/reports/2026Q1?unit=朝阳区", headers=ADMIN)).json()
    assert body["units"][0]["status"] == "accepted"


async def test_returning_a_summary_reopens_it_and_tells_its_cadres(
    client: httpx.AsyncClient, database: Database, data: Dataset, engine: Engine
) -> None:
    """A returned summary is open again (overdue here) and each 朝阳区 cadre gets a push;
    a second return after resubmission is a new push under the next round's key."""
    _submit(database, data)
    response = await client.post(
        "/api/v1/reports/2026Q1/朝阳区/review",
        headers=ADMIN,
        json={"accept": False, "comment": "请补充结对帮扶情况"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["review"], body["status"], body["notified"]) == ("returned", "overdue", 1)
    pushes = _pushes(database, "report-returned:朝阳区:2026Q1:")
    assert [p.key for p in pushes] == [f"report-returned:朝阳区:2026Q1:1:{data.leader.id}"]
    assert [p.user_id for p in pushes] == [data.leader.id]
    texts = [o.text for o in engine.pull(channel="api", user="cadre-li")]
    assert any("请补充结对帮扶情况" in t and "朝阳区妇联2026年第一季度妇情汇总" in t for t in texts)
    assert engine.pull(channel="api", user="cadre-zhang") == []  # a street's cadre is not told

    shown = (await client.get("/api/v1/reports/2026Q1?unit=朝阳区", headers=ADMIN)).json()
    entry = shown["units"][0]
    assert (entry["status"], entry["review"]) == ("overdue", "returned")
    assert entry["review_comment"] == "请补充结对帮扶情况"
    assert entry["figures"]["visits"]["total"] == 4  # compiled live again

    _submit(database, data)
    second = await client.post(
        "/api/v1/reports/2026Q1/朝阳区/review", headers=ADMIN, json={"accept": False}
    )
    assert second.json()["notified"] == 1
    keys = [p.key for p in _pushes(database, "report-returned:朝阳区:2026Q1:")]
    assert keys[-1] == f"report-returned:朝阳区:2026Q1:2:{data.leader.id}"


async def test_a_review_comment_is_stored_with_phone_numbers_masked(
    client: httpx.AsyncClient, database: Database, data: Dataset, engine: Engine
) -> None:
    """A returned summary's comment keeps a phone number masked; the cadres are told it as
    typed."""
    _submit(database, data)
    response = await client.post(
        "/api/v1/reports/2026Q1/朝阳区/review",
        headers=ADMIN,
        json={"accept": False, "comment": "有疑问请打13800138000"},
    )
    assert response.json()["review_comment"] == "有疑问请打138****8000"
    texts = [o.text for o in engine.pull(channel="api", user="cadre-li")]
    assert any("有疑问请打13800138000" in t for t in texts)


async def test_due_date_override_and_its_removal(client: httpx.AsyncClient, data: Dataset) -> None:
    """PUT sets the quarter's due date (the units are then open, not overdue); null removes it."""
    response = await client.put(
        "/api/v1/reports/2026Q1/due-date",
        headers=ADMIN,
        json={"due_date": "2026-04-15", "note": "清明节顺延"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "quarter": "2026Q1",
        "due_date": "2026-04-15",
        "overridden": True,
        "note": "清明节顺延",
    }
    body = (await client.get("/api/v1/reports/2026Q1?unit=朝阳区", headers=ADMIN)).json()
    assert body["due_date"] == "2026-04-15"
    assert (body["units"][0]["due_date"], body["units"][0]["status"]) == ("2026-04-15", "open")
    removed = await client.put(
        "/api/v1/reports/2026Q1/due-date", headers=ADMIN, json={"due_date": None}
    )
    assert removed.json()["due_date"] == "2026-04-10"
    assert removed.json()["overridden"] is False
    body = (await client.get("/api/v1/reports/2026Q1?unit=朝阳区", headers=ADMIN)).json()
    assert body["units"][0]["status"] == "overdue"


async def test_due_date_rejects_bad_input(client: httpx.AsyncClient) -> None:
    """A bad quarter or a date that does not parse is 422."""
    bad_quarter = await client.put(
        "/api/v1/reports/2026Q9/due-date", headers=ADMIN, json={"due_date": None}
    )
    assert bad_quarter.status_code == 422
    bad_date = await client.put(
        "/api/v1/reports/2026Q1/due-date", headers=ADMIN, json={"due_date": "15 April"}
    )
    assert bad_date.status_code == 422
    assert bad_date.json()["error"] == "invalid_request"
