"""The console's overview pages (dashboard, diary, quarters, org, outbox) and list exports,
for city staff and for a district's staff, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from bot.config import Settings
from bot.console.overview.listing import column_name
from bot.engine import Engine
from bot.http import Services
from bot.nlp import NLP
from storage import repo
from storage.db import Database
from storage.models import Invite, Outbox, QuarterlyReport
from tests.conftest import Clock, served
from tests.console.sessions import logged_in, make_staff
from tests.factories import help_request
from tests.fakes.senders import RecordingSender
from tests.reporting.dataset import PHONE, Dataset, at, build
from tests.reporting.formulas import FORMULAS, INERT, csv_texts, formula_visit, xlsx_texts

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Console:
    """The app's client, its services, the dataset and the recording sender."""

    http: httpx.AsyncClient
    services: Services
    data: Dataset
    recorder: RecordingSender


@pytest.fixture
async def console(
    settings: Settings, database: Database, nlp: NLP, engine: Engine, clock: Clock
) -> AsyncIterator[Console]:
    """The app at 2026-04-12 10:00 Shanghai on the scripted dataset, with a city account
    (`city`) and a 朝阳区 account (`chaoyang`); pushes on the api channel are recorded."""
    clock.now = at(2026, 4, 12)
    with database.transaction() as session:
        data = build(session)
        help_request(session, need=f"想找工作，电话{PHONE}", phone=PHONE, now=at(2026, 4, 10))
    make_staff(database, "city", "北京市")
    make_staff(database, "chaoyang", "朝阳区")
    recorder = RecordingSender()
    async with served(settings, engine) as app:
        app.channels.dispatcher.senders = {"api": recorder}
        yield Console(http=app.http, services=app.services, data=data, recorder=recorder)


async def _as(console: Console, username: str) -> str:
    """Log in afresh as `username` (the previous session's cookies dropped); the CSRF token."""
    console.http.cookies.clear()
    return await logged_in(console.http, username)


def _svg_descs(html: str) -> dict[str, str]:
    found = {}
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        root = ET.fromstring(svg)
        found[root.find(f"{SVG}title").text or ""] = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    return found


def _push(database: Database, user_id: int, text: str, status: str = "dead") -> int:
    with database.transaction() as session:
        row = repo.enqueue(session, user_id=user_id, text=text, now=at(2026, 4, 11))
        assert row is not None and row.id is not None
        row.status, row.attempts, row.last_error = status, 6, "HTTPError: 502"
        session.add(row)
        return row.id


# ----------------------------------------------------------------------------- dashboard


async def test_dashboard_charts_and_headlines_for_city_staff(console: Console) -> None:
    """City staff get four valid SVG charts over every district and the headline numbers."""
    await _as(console, "city")
    page = await console.http.get("/console")
    assert page.status_code == 200
    charts = _svg_descs(page.text)
    assert len(charts) == 4
    assert charts["求助按区"] == "朝阳区：9；海淀区：1"
    assert "岗位：6" in charts["求助按主要类别"]
    assert "待受理：4" in charts["求助按状态"]
    weekly = next(v for k, v in charts.items() if k.startswith("近12周"))
    assert "03-16：1" in weekly  # the 2026-03-20 visit, in the week from Monday 03-16
    assert "04-06：0" in weekly
    open_count = re.search(r'data-testid="open">\s*<span class="n">(\d+)', page.text)
    assert open_count is not None and open_count.group(1) == "4"


async def test_dashboard_of_a_district_leaves_other_districts_out(console: Console) -> None:
    """A 朝阳区 account's charts count 朝阳区 only."""
    await _as(console, "chaoyang")
    charts = _svg_descs((await console.http.get("/console")).text)
    assert charts["求助按区"] == "朝阳区：9"
    assert "海淀区" not in "".join(charts.values())


# ----------------------------------------------------------------------------- visit diary


async def test_diary_newest_first_with_filters(console: Console) -> None:
    """The diary lists visits newest first and filters by cadre, unit and dates."""
    await _as(console, "city")
    page = (await console.http.get("/console/visits")).text
    assert "共 7 条" in page
    dates = re.findall(r"<td>(\d{4}-\d\d-\d\d)</td>", page)
    assert dates == sorted(dates, reverse=True)
    assert "孙某" in page
    leader = console.data.leader.id
    by_cadre = (await console.http.get(f"/console/visits?cadre={leader}")).text
    assert "共 2 条" in by_cadre
    odd = await console.http.get("/console/visits?cadre=²")  # a digit to isdigit(), not to int()
    assert odd.status_code == 200 and "共 7 条" in odd.text  # not an id: no filter
    by_unit = (await console.http.get("/console/visits?unit=朝阳区/劲松街道")).text
    assert "共 1 条" in by_unit and "刘某" in by_unit
    by_dates = (await console.http.get("/console/visits?start=2026-02-01&end=2026-03-01")).text
    assert "共 3 条" in by_dates


async def test_diary_pages(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    """The diary is paged, the pager keeping the filters."""
    monkeypatch.setattr("bot.console.overview.listing.PAGE_SIZE", 3)
    await _as(console, "city")
    first = (await console.http.get("/console/visits?unit=朝阳区")).text
    assert first.count("<tr>") == 1 + 3 and "第 1 / 2 页" in first
    assert 'href="/console/visits?unit=%E6%9C%9D%E9%98%B3%E5%8C%BA&amp;page=2"' in first
    second = (await console.http.get("/console/visits?unit=朝阳区&page=2")).text
    assert second.count("<tr>") == 1 + 3 and "第 2 / 2 页" in second
    assert re.findall(r"<td>(\d{4}-\d\d-\d\d)</td>", second)[-1] == "2025-11-11"


async def test_diary_of_a_district_hides_other_districts(console: Console) -> None:
    """A 朝阳区 account never sees the 海淀区 visit, even when filtering for it."""
    await _as(console, "chaoyang")
    page = (await console.http.get("/console/visits")).text
    assert "共 6 条" in page and "孙某" not in page
    asked = (await console.http.get("/console/visits?unit=海淀区")).text
    assert "共 0 条" in asked and "孙某" not in asked


async def test_diary_exports_open_and_mask_phones(console: Console) -> None:
    """The diary's CSV and XLSX hold the filtered rows, with phone numbers masked."""
    await _as(console, "chaoyang")
    response = await console.http.get("/console/visits?format=csv&unit=朝阳区/双井街道")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 5
    assert {r["单位"] for r in rows} == {"朝阳区/双井街道"}
    notes = "".join(r["走访记录"] for r in rows)
    assert PHONE not in notes and "138****5678" in notes
    xlsx = await console.http.get("/console/export/visits?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 7  # header + the 6 朝阳区 visits
    assert "海淀干部" not in [c.value for c in sheet["B"]]


# ----------------------------------------------------------------------------- request exports


async def test_request_exports_filter_scope_and_mask(console: Console) -> None:
    """Request exports follow the queue's filters and the scope; phones are masked."""
    await _as(console, "city")
    everything = await console.http.get("/console/export/requests?format=csv")
    rows = list(csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig"))))
    assert len(rows) == 10
    assert "海淀区" in {r["区"] for r in rows}
    phoned = next(r for r in rows if r["联系方式"] == "电话")
    assert phoned["电话"] == "138****5678" and PHONE not in everything.content.decode()
    jobs = await console.http.get("/console/export/requests?format=xlsx&category=jobs&status=new")
    sheet = load_workbook(io.BytesIO(jobs.content)).active
    assert sheet.max_row - 1 == 3  # new job requests: 朝阳区's two and 海淀区's one
    header = [c.value for c in sheet[1]]
    created = sheet.cell(row=2, column=header.index(column_name("created")) + 1)
    assert isinstance(created.value, datetime) and created.number_format == "yyyy-mm-dd hh:mm"
    assert (
        sheet.freeze_panes == "A2" and sheet.auto_filter.ref and sheet.title.startswith("requests")
    )
    await _as(console, "chaoyang")
    mine = await console.http.get("/console/export/requests?format=csv&district=海淀区")
    assert mine.status_code == 200 and mine.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(mine.content.decode("utf-8-sig")))
    assert list(reader) == [] and "区" in (reader.fieldnames or [])  # the header, no row


async def test_list_exports_write_formulas_as_inert_text(console: Console) -> None:
    """Needs and visit notes typed as spreadsheet formulas leave the request and diary exports
    (CSV and XLSX) quoted, never as live formulas (a whom that is no name leaves as 某居民)."""
    with console.services.db.transaction() as session:
        for formula in FORMULAS:
            help_request(session, need=formula, now=at(2026, 4, 11))
        formula_visit(session, console.data.field_cadre)
    await _as(console, "city")
    requests = await console.http.get("/console/export/requests?format=csv")
    assert csv_texts(requests.content) >= INERT
    requests = await console.http.get("/console/export/requests?format=xlsx")
    assert xlsx_texts(requests.content) >= INERT
    notes_and_whom = {"'" + FORMULAS[0], "某居民"}
    visits = await console.http.get("/console/visits?format=csv")
    assert notes_and_whom <= csv_texts(visits.content)
    visits = await console.http.get("/console/export/visits?format=xlsx")
    assert notes_and_whom <= xlsx_texts(visits.content)


# ----------------------------------------------------------------------------- quarters


async def test_quarter_status_per_district(console: Console) -> None:
    """City staff see all 16 districts per quarter with due date and status; a submitted
    summary shows as such."""
    with console.services.db.transaction() as session:
        report = repo.report_for(
            session, unit_id=console.data.district.id or 0, quarter="2026Q1", now=at(2026, 4, 9)
        )
        repo.submit_report(
            session, report=report, figures={}, remark=None, by=None, now=at(2026, 4, 9)
        )
    await _as(console, "city")
    page = (await console.http.get("/console/quarters?quarter=2026Q1")).text
    assert page.count('<tr data-unit="') == 17  # the city's own summary and 16 districts'
    assert '<tr data-unit="北京市" data-status="open">' in page  # due 2026-04-20
    assert '<tr data-unit="朝阳区" data-status="submitted">' in page
    assert '<tr data-unit="海淀区" data-status="overdue">' in page
    assert "截止 2026-04-10" in page
    default = (await console.http.get("/console/quarters")).text
    assert 'data-quarter="2026Q2"' in default and 'data-quarter="2026Q1"' in default


async def test_quarter_pages_of_a_district(console: Console) -> None:
    """A 朝阳区 account sees its own row only, and another district's page is a 404."""
    await _as(console, "chaoyang")
    page = (await console.http.get("/console/quarters?quarter=2026Q1")).text
    assert page.count('<tr data-unit="') == 1 and "海淀区" not in page
    other = await console.http.get("/console/quarters/2026Q1/海淀区")
    assert other.status_code == 404 and "不在您的管辖范围内" in other.text
    assert "走访次数" not in other.text
    files = await console.http.get("/console/quarters/2026Q1/海淀区/export?format=docx")
    assert files.status_code == 404
    own = await console.http.get("/console/quarters/2026Q1/朝阳区")
    assert own.status_code == 200
    assert "通过" not in own.text and "调整截止日期" not in own.text  # city staff only


async def test_quarter_unit_figures_and_downloads(console: Console) -> None:
    """The district's page shows the compiled figures; XLSX and DOCX downloads open."""
    await _as(console, "city")
    page = await console.http.get("/console/quarters/2026Q1/朝阳区")
    assert page.status_code == 200
    assert "一、走访情况" in page.text and "<td>走访次数</td><td>4</td>" in page.text
    assert "138****5678" in page.text and PHONE not in page.text
    assert _svg_descs(page.text)["二、发现的需求"].startswith("岗位：5")
    xlsx = await console.http.get("/console/quarters/2026Q1/朝阳区/export?format=xlsx")
    assert "2026Q1-%E6%9C%9D%E9%98%B3%E5%8C%BA.xlsx" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = {row[1]: row[2] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert values["走访次数"] == 4 and values["本季度办结"] == 4
    docx = await console.http.get("/console/quarters/2026Q1/朝阳区/export?format=docx")
    document = Document(io.BytesIO(docx.content))
    assert document.paragraphs[0].text == "朝阳区妇联2026年第一季度妇情汇总"


async def test_the_city_summary_page(console: Console) -> None:
    """City staff reach the city's summary from the quarters page: every district's row and
    the problems several districts share, with its files; a district's staff get a 404."""
    await _as(console, "city")
    listing = (await console.http.get("/console/quarters?quarter=2026Q1")).text
    assert '<tr data-unit="北京市"' in listing  # the city's own summary, first
    page = await console.http.get("/console/quarters/2026Q1/北京市")
    assert page.status_code == 200
    assert "各区情况" in page.text and "<td>朝阳区</td><td>走访4次" in page.text
    assert "提交全市汇总" in page.text and "通过" not in page.text  # nobody reviews the city's
    csrf = await _as(console, "city")
    url = "/console/quarters/2026Q1/北京市/submit"
    sent = await console.http.post(url, data={"remark": "全市重点关注就业", "csrf_token": csrf})
    assert sent.status_code == 303
    after = await console.http.get(sent.headers["location"])
    assert "全市汇总已提交" in after.text and "提交全市汇总" not in after.text
    again = await console.http.post(url, data={"remark": "", "csrf_token": csrf})
    assert "已经提交过了" in (await console.http.get(again.headers["location"])).text
    docx = await console.http.get("/console/quarters/2026Q1/北京市/export?format=docx")
    document = Document(io.BytesIO(docx.content))
    assert document.paragraphs[0].text == "北京市妇联2026年第一季度妇情汇总"
    assert any(p.text == "全市重点关注就业" for p in document.paragraphs)
    wrong = await console.http.post(
        "/console/quarters/2026Q1/朝阳区/submit", data={"remark": "", "csrf_token": csrf}
    )
    assert wrong.status_code == 404  # a district submits in chat, not here
    csrf = await _as(console, "chaoyang")
    assert (await console.http.get("/console/quarters/2026Q1/北京市")).status_code == 404
    refused = await console.http.post(url, data={"remark": "", "csrf_token": csrf})
    assert refused.status_code == 403
    assert 'data-unit="北京市"' not in (await console.http.get("/console/quarters")).text


async def test_contact_points_page(console: Console) -> None:
    """联系点: coverage per level and kind (李主任's 2/6 of the summary), every point with
    whether it was visited in 2026Q1, the unvisited alone, a file; 朝阳区's staff do not see
    海淀区's cadre's points."""
    await _as(console, "city")
    page = await console.http.get("/console/contacts", params={"quarter": "2026Q1"})
    assert page.status_code == 200 and "联系点" in page.text
    assert "<td>区级</td><td>联系街道/乡镇</td><td>2</td><td>1</td><td>50%</td>" in page.text
    assert "海淀干部" in page.text
    rows = page.text.count('<tr class="waiting">')
    unvisited = await console.http.get(
        "/console/contacts", params={"quarter": "2026Q1", "unvisited": "1"}
    )
    listed = unvisited.text.split('id="contact-points"')[1]
    assert (
        "<td>是</td>" not in listed and "<td>是</td>" in page.text.split('id="contact-points"')[1]
    )
    assert unvisited.text.count('<tr class="waiting">') == rows > 0
    file = await console.http.get(
        "/console/contacts", params={"quarter": "2026Q1", "format": "csv"}
    )
    table = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    li = [r for r in table if r["持有人"] == "李主任"]
    assert len(li) == 6 and sum(r["本季度已走访"] == "是" for r in li) == 2
    assert {r["本季度最近走访"] for r in li if r["本季度已走访"] == "是"} == {"2026-03-01"}
    await _as(console, "chaoyang")
    mine = (await console.http.get("/console/contacts", params={"quarter": "2026Q1"})).text
    assert "李主任" in mine and "海淀干部" not in mine


async def test_review_is_the_apis_review(console: Console) -> None:
    """City staff return a submitted summary (its cadres are told) and then cannot accept an
    open one; a district's staff may not review; a POST without the token is refused."""
    with console.services.db.transaction() as session:
        report = repo.report_for(
            session, unit_id=console.data.district.id or 0, quarter="2026Q1", now=at(2026, 4, 9)
        )
        repo.submit_report(
            session, report=report, figures={}, remark=None, by=None, now=at(2026, 4, 9)
        )
    url = "/console/quarters/2026Q1/朝阳区/review"
    district_csrf = await _as(console, "chaoyang")
    refused = await console.http.post(url, data={"action": "accept", "csrf_token": district_csrf})
    assert refused.status_code == 403
    csrf = await _as(console, "city")
    assert (await console.http.post(url, data={"action": "accept"})).status_code == 403
    answer = await console.http.post(
        url, data={"action": "return", "comment": "请补充典型案例", "csrf_token": csrf}
    )
    assert answer.status_code == 303
    shown = (await console.http.get(answer.headers["location"])).text
    assert "已退回朝阳区2026Q1的季度汇总，已通知1位干部" in shown
    assert "请补充典型案例" in shown
    with console.services.db.read() as session:
        stored = session.exec(select(QuarterlyReport)).one()
        assert (stored.status, stored.review_comment) == ("returned", "请补充典型案例")
        assert repo.keys_with_prefix(session, prefix="report-returned:朝阳区:2026Q1:1:")
    again = await console.http.post(url, data={"action": "accept", "csrf_token": csrf})
    assert "只有已提交的汇总可以审核" in (await console.http.get(again.headers["location"])).text


async def test_accepting_a_submitted_summary(console: Console) -> None:
    """City staff accept a submitted summary: it shows as accepted, nobody is told."""
    with console.services.db.transaction() as session:
        report = repo.report_for(
            session, unit_id=console.data.district.id or 0, quarter="2026Q1", now=at(2026, 4, 9)
        )
        repo.submit_report(
            session, report=report, figures={}, remark=None, by=None, now=at(2026, 4, 9)
        )
    csrf = await _as(console, "city")
    answer = await console.http.post(
        "/console/quarters/2026Q1/朝阳区/review", data={"action": "accept", "csrf_token": csrf}
    )
    page = (await console.http.get(answer.headers["location"])).text
    assert "已通过朝阳区2026Q1的季度汇总" in page
    assert '<span class="badge q-accepted" data-testid="status">已通过</span>' in page
    with console.services.db.read() as session:
        assert not repo.keys_with_prefix(session, prefix="report-returned:")


async def test_due_date_override_is_the_apis(console: Console) -> None:
    """City staff move a quarter's due date and remove the override again."""
    csrf = await _as(console, "city")
    url = "/console/quarters/2026Q1/due-date"
    moved = await console.http.post(
        url, data={"due": "2026-04-20", "note": "延期", "back": "朝阳区", "csrf_token": csrf}
    )
    assert moved.headers["location"] == "/console/quarters/2026Q1/%E6%9C%9D%E9%98%B3%E5%8C%BA"
    page = (await console.http.get(moved.headers["location"])).text
    assert "截止日期已改为2026-04-20" in page and "<dd>2026-04-20</dd>" in page
    with console.services.db.read() as session:
        assert repo.due_date_overrides(session)["2026Q1"].isoformat() == "2026-04-20"
    await console.http.post(url, data={"due": "", "csrf_token": csrf})
    with console.services.db.read() as session:
        assert repo.due_date_overrides(session) == {}
    district_csrf = await _as(console, "chaoyang")
    refused = await console.http.post(url, data={"due": "2026-05-01", "csrf_token": district_csrf})
    assert refused.status_code == 403


# ----------------------------------------------------------------------------- org and invites


async def test_org_units_cadres_and_invites(console: Console) -> None:
    """City staff see every district with its cadre count, the cadres and the invites."""
    await _as(console, "city")
    page = (await console.http.get("/console/org")).text
    assert page.count('<details class="district"') == 16
    assert re.search(r'data-unit="朝阳区".*?<span class="count some">2 名干部', page, re.S)
    assert re.search(
        r'data-unit="朝阳区/双井街道"><span>双井街道</span><span class="count some">1', page
    )
    assert "海淀干部" in page and "<td>api</td>" in page
    assert page.count('<tr class="used">') == 3


async def test_invite_creation_within_scope(console: Console) -> None:
    """A district's staff create an invite for a street of theirs (the code is shown), but not
    for another district's unit."""
    csrf = await _as(console, "chaoyang")
    with console.services.db.read() as session:
        street = repo.unit_by_path(session, path="朝阳区/双井街道")
        haidian = repo.unit_by_path(session, path="海淀区")
        assert street is not None and haidian is not None
    answer = await console.http.post(
        "/console/org/invites", data={"unit": street.id, "name": "王新", "csrf_token": csrf}
    )
    assert answer.status_code == 303
    page = (await console.http.get("/console/org")).text
    with console.services.db.read() as session:
        [invite] = [i for i in session.exec(select(Invite)) if i.name == "王新"]  # encrypted
    assert invite.unit_id == street.id
    assert f"生成邀请码 {invite.code}" in page and f"绑定 {invite.code}" in page
    assert "海淀" not in page
    await console.http.post(
        "/console/org/invites", data={"unit": haidian.id, "name": "越权", "csrf_token": csrf}
    )
    assert "请选择您管辖范围内的单位" in (await console.http.get("/console/org")).text
    with console.services.db.read() as session:
        assert all(i.name != "越权" for i in session.exec(select(Invite)))  # names are encrypted


# ----------------------------------------------------------------------------- outbox


async def test_outbox_lists_and_highlights_dead_letters(console: Console) -> None:
    """The outbox filters by status and marks dead rows; a district sees its cadres' pushes."""
    mine = _push(console.services.db, console.data.field_cadre.id or 0, f"提醒{PHONE}")
    theirs = _push(console.services.db, console.data.other_cadre.id or 0, "海淀的提醒")
    await _as(console, "city")
    page = (await console.http.get("/console/outbox?status=dead")).text
    assert f'<tr class="dead" data-id="{mine}">' in page
    assert f'data-id="{theirs}"' in page
    assert PHONE not in page and "138****5678" in page
    assert "HTTPError: 502" in page
    sent_only = (await console.http.get("/console/outbox?status=sent")).text
    assert f'data-id="{mine}"' not in sent_only
    await _as(console, "chaoyang")
    district = (await console.http.get("/console/outbox")).text
    assert f'data-id="{mine}"' in district and f'data-id="{theirs}"' not in district


async def test_retry_sends_a_dead_push_through_the_dispatcher(console: Console) -> None:
    """Retry sets a dead push back to pending and the dispatcher sends it: it ends up sent;
    another district's push cannot be retried."""
    mine = _push(console.services.db, console.data.field_cadre.id or 0, "请补交汇总")
    theirs = _push(console.services.db, console.data.other_cadre.id or 0, "海淀的提醒")
    csrf = await _as(console, "chaoyang")
    answer = await console.http.post(
        f"/console/outbox/{mine}/retry", data={"status": "dead", "csrf_token": csrf}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/outbox?status=dead"
    assert console.recorder.sent == [("cadre-zhang", "请补交汇总")]
    with console.services.db.read() as session:
        row = session.get(Outbox, mine)
        assert row is not None and (row.status, row.attempts) == ("sent", 7)
    assert f"推送 #{mine} 已重新发出" in (await console.http.get(answer.headers["location"])).text
    other = await console.http.post(f"/console/outbox/{theirs}/retry", data={"csrf_token": csrf})
    assert other.status_code == 404
    again = await console.http.post(f"/console/outbox/{mine}/retry", data={"csrf_token": csrf})
    assert "不能重试" in (await console.http.get(again.headers["location"])).text
    assert len(console.recorder.sent) == 1


async def test_pages_need_a_login(console: Console) -> None:
    """Without a session every overview page and export sends the browser to the login."""
    for url in ("/console", "/console/visits", "/console/quarters", "/console/org",
                "/console/outbox", "/console/export/requests?format=csv"):  # fmt: skip
        response = await console.http.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/console/login")
