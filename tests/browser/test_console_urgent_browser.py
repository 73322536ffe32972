"""The console's urgent cases in a real Chromium: the navigation's badge and the flashing tab
title while an urgent case waits for someone to accept it, updated by the page's script
(polling /console/urgent) without a reload, within the CSP."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from tests.browser.conftest import LiveServer, csp_violations
from tests.browser.test_console_browser import desktop, log_in
from tests.console.sessions import T0, bind_cadre, file_request, make_staff, take_request

if TYPE_CHECKING:
    from playwright.sync_api import Browser

POLL_MS = 30_000  # bot/console/static/urgent.js
MARK = "【紧急】"


def test_badge_and_flashing_title_follow_the_urgent_cases(
    live_server: LiveServer, browser: Browser
) -> None:
    """With an urgent case waiting, every page shows 紧急 1 and the tab title alternates with
    【紧急】; a new one shows 紧急 2 at the next poll, without a reload; once both are taken
    the badge goes and the title stops flashing. 海淀区's case never counts for 朝阳区."""
    from playwright.sync_api import expect

    db = live_server.database
    waiting = file_request(db, "朝阳区", "双井街道", crisis=True, need="他拿刀威胁我", at=T0)
    file_request(db, "海淀区", requester="woman-9", crisis=True, need="被关在家里", at=T0)
    file_request(db, "朝阳区", "劲松街道", requester="woman-3", at=T0 + timedelta(hours=1))
    cadre = bind_cadre(db, "朝阳区/双井街道", "张秀英", "cadre-sj")
    make_staff(db, "chaoyang", "朝阳区")
    page = desktop(browser)
    violations = csp_violations(page)
    page.clock.install()
    log_in(page, live_server, "chaoyang", "/console")
    badge = page.locator("#urgent-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_text("紧急 1")
    titles = set()
    for _ in range(4):
        page.clock.run_for(1000)
        titles.add(page.title())
    assert titles == {MARK + "首页 · 妇情通", "首页 · 妇情通"}, titles

    page.goto(live_server.url + "/console/requests")
    expect(badge).to_have_text("紧急 1")
    first = page.locator("table.list tbody tr").first
    expect(first).to_have_class("waiting")
    expect(first).to_contain_text(waiting)
    expect(first).to_contain_text("紧急·待受理")

    page.evaluate("window.stillHere = true")
    second = file_request(
        db, "朝阳区", "望京街道", requester="woman-4", crisis=True, need="他说今晚要打死我"
    )
    page.clock.run_for(POLL_MS)
    expect(badge).to_have_text("紧急 2")
    assert page.evaluate("window.stillHere") is True  # no reload

    take_request(db, waiting, cadre)
    take_request(db, second, cadre)
    page.clock.run_for(POLL_MS)
    expect(badge).to_be_hidden()
    page.clock.run_for(3000)
    assert page.title() == "求助队列 · 妇情通"
    assert violations == []
    page.context.close()


def test_no_urgent_case_no_badge_no_flashing(live_server: LiveServer, browser: Browser) -> None:
    """Without an unaccepted urgent case the badge is hidden and the title stays still."""
    file_request(live_server.database, "朝阳区", "双井街道")
    make_staff(live_server.database, "chaoyang", "朝阳区")
    page = desktop(browser)
    page.clock.install()
    log_in(page, live_server, "chaoyang", "/console/requests")
    from playwright.sync_api import expect

    expect(page.locator("#urgent-badge")).to_be_hidden()
    for _ in range(3):
        page.clock.run_for(1000)
        assert page.title() == "求助队列 · 妇情通"
    page.context.close()
