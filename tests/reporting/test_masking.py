"""No resident's real name or phone leaves in a report or an export: a cadre writes a visit
naming her in full with her phone, and neither shows in the quarterly summary (JSON, chat text,
CSV, XLSX, DOCX) nor in the console's diary and its exports. Both databases."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
from docx import Document
from openpyxl import load_workbook

from storage.db import Database
from tests.conftest import ADMIN, Chat
from tests.console.sessions import logged_in, make_staff
from tests.factories import add_community

NAME, PHONE = "刘晓红", "13812345678"
NOTE = f"和{NAME}聊了很久，她老公张伟不让她出去工作，她想学育婴师，电话{PHONE}"


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def _xlsx_text(content: bytes) -> str:
    sheet = load_workbook(io.BytesIO(content)).active
    return "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v)


async def test_a_real_name_and_phone_never_leave_in_a_report(
    client: httpx.AsyncClient, cadre: Callable[..., Chat], database: Database
) -> None:
    """The visit is written with 刘晓红 as whom and her name and phone in the note; every
    summary file and the diary show 刘某 and a masked phone, and the cadre's own name stays."""
    with database.transaction() as session:
        add_community(session)
    officer = cadre(name="张干部")
    officer.run(
        [
            ("走访记录", "哪天走访的"),
            ("昨天", "在哪里走访的"),
            ("九龙社区", "走访形式"),
            ("1", "走访了谁"),
            (NAME, "重点群体"),
            ("3", "情况"),
            (NOTE, "建一个求助单"),
            ("否", "请核对走访记录"),
            ("确认", "已记入走访日记"),
        ]
    )
    make_staff(database, "city", "北京市")
    await logged_in(client, "city")
    seen: dict[str, str] = {}
    base = "/console/quarters/2026Q1/朝阳区"
    seen["page"] = (await client.get(base)).text
    for fmt in ("docx", "xlsx"):
        content = (await client.get(f"{base}/export", params={"format": fmt})).content
        seen[fmt] = _docx_text(content) if fmt == "docx" else _xlsx_text(content)
    for fmt in ("json", "csv", "docx"):
        api = await client.get(
            "/api/v1/reports/2026Q1", params={"unit": "朝阳区", "format": fmt}, headers=ADMIN
        )
        assert api.status_code == 200, fmt
        seen[f"api-{fmt}"] = _docx_text(api.content) if fmt == "docx" else api.text
    seen["diary"] = (await client.get("/console/visits")).text
    for fmt in ("csv", "xlsx"):
        content = (await client.get("/console/visits", params={"format": fmt})).content
        seen[f"diary-{fmt}"] = content.decode("utf-8-sig") if fmt == "csv" else _xlsx_text(content)
    for where, text in seen.items():
        assert NAME not in text and PHONE not in text and "张伟" not in text, where
    assert "刘某" in seen["docx"] and "138****5678" in seen["docx"]
    assert "刘某" in seen["diary-csv"] and "张某" in seen["diary-csv"]
    assert "张干部" in seen["diary-csv"]  # the cadre's own name is no secret
