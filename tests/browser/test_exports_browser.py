"""Console downloads in a real Chromium: a district's quarterly summary as XLSX and DOCX and the
visit diary as XLSX open with openpyxl and python-docx; a district's staff download her
district's visits only; the dashboard's charts are inline SVG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from docx import Document
from openpyxl import load_workbook

from tests.browser.conftest import LiveServer
from tests.console.sessions import PASSWORD, make_staff
from tests.reporting.dataset import build

if TYPE_CHECKING:
    from playwright.sync_api import Page


def log_in(page: Page, server: LiveServer, username: str, path: str) -> None:
    """Open a console page, get sent to the login form, fill it in and come back."""
    page.goto(server.url + path)
    assert "/console/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(server.url + path)


def download(page: Page, link: str, folder: Path) -> Path:
    """Click the link labelled `link` and save the file it downloads; its path."""
    with page.expect_download() as info:
        page.click(f"a:has-text('{link}')")
    saved = folder / info.value.suggested_filename
    info.value.save_as(saved)
    return saved


def test_summary_and_diary_downloads_open(
    live_server: LiveServer,
    browser_page: Page,
    tmp_path: Path,
    screenshot: Callable[[Page, str], None],
) -> None:
    """City staff download 朝阳区's 2026Q1 summary (XLSX, DOCX) and the diary (XLSX); a 朝阳区
    account's diary download leaves 海淀区 out."""
    with live_server.database.transaction() as session:
        build(session)
    make_staff(live_server.database, "city", "北京市")
    make_staff(live_server.database, "chaoyang", "朝阳区")
    page = browser_page

    log_in(page, live_server, "city", "/console")
    assert page.locator("svg[role=img]").count() == 4
    screenshot(page, "console-dashboard")
    page.goto(live_server.url + "/console/quarters/2026Q1/%E6%9C%9D%E9%98%B3%E5%8C%BA")
    screenshot(page, "console-quarter-unit")
    xlsx = download(page, "Excel (XLSX)", tmp_path)
    assert xlsx.name == "2026Q1-朝阳区.xlsx"
    sheet = load_workbook(xlsx).active
    values = {row[1]: row[2] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert values["走访次数"] == 4 and values["新收求助"] == 7
    docx = download(page, "Word (DOCX)", tmp_path)
    assert Document(str(docx)).paragraphs[0].text == "朝阳区妇联2026年第一季度妇情汇总"

    page.goto(live_server.url + "/console/visits")
    everything = load_workbook(download(page, "导出 Excel", tmp_path)).active
    assert everything.max_row == 8  # header + 7 visits
    assert "海淀干部" in [c.value for c in everything["B"]]

    page.click("button:has-text('退出')")
    log_in(page, live_server, "chaoyang", "/console/visits")
    mine = load_workbook(download(page, "导出 Excel", tmp_path)).active
    assert mine.max_row == 7  # header + 朝阳区's 6 visits
    assert "海淀干部" not in [c.value for c in mine["B"]]
