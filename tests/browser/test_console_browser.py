"""The console in a real Chromium: log in, open the queue, assign and resolve a request (the
woman is told), and a district's staff cannot see another district's request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from storage import repo
from tests.browser.conftest import LiveServer, csp_violations
from tests.console.sessions import PASSWORD, T0, bind_cadre, file_request, make_staff

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def desktop(browser: Browser) -> Page:
    """A desktop-sized page (own cookies) in Chinese, on Beijing time."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def log_in(page: Page, server: LiveServer, username: str, path: str = "/console/requests") -> None:
    """Open a console page, get sent to the login form, fill it in and come back."""
    page.goto(server.url + path)
    assert "/console/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(server.url + path)


def sample_queue(server: LiveServer) -> dict[str, str]:
    """A handful of requests across two districts and statuses, the cadre, and the staff."""
    db = server.database
    codes = {
        "sj": file_request(db, "朝阳区", "双井街道", at=T0),
        "urgent": file_request(
            db,
            "朝阳区",
            "劲松街道",
            requester="woman-2",
            crisis=True,
            categories=("rights",),
            need="丈夫喝酒后动手，想咨询法律援助",
            at=T0 + timedelta(hours=1),
        ),
        "health": file_request(
            db,
            "朝阳区",
            "望京街道",
            requester="woman-3",
            categories=("health", "relief"),
            need="孩子住院，医药费负担重，想申请救助",
            at=T0 + timedelta(hours=2),
        ),
        "hd": file_request(
            db,
            "海淀区",
            "中关村街道",
            requester="woman-4",
            categories=("knowledge",),
            need="想参加育儿讲座",
            at=T0 + timedelta(hours=3),
        ),
        "dx": file_request(
            db,
            "东城区",
            requester=None,
            categories=("relief",),
            need="走访发现独居老人需要帮扶",
            at=T0 + timedelta(hours=4),
        ),
    }
    bind_cadre(db, "朝阳区/双井街道", "张秀英", "cadre-sj")
    make_staff(db, "chaoyang", "朝阳区")
    make_staff(db, "haidian", "海淀区")
    make_staff(db, "city", "北京市")
    return codes


def test_assign_and_resolve_in_the_browser(live_server: LiveServer, browser: Browser) -> None:
    """Log in, open a request from the queue, assign it to a cadre, resolve it; she is told."""
    codes = sample_queue(live_server)
    page = desktop(browser)
    log_in(page, live_server, "chaoyang")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 3
    assert codes["hd"] not in page.content()
    page.click(f"a:has-text('{codes['sj']}')")
    page.wait_for_url(f"{live_server.url}/console/requests/{codes['sj']}")
    page.select_option("select[name=cadre_id]", label="张秀英（朝阳区双井街道妇联）")
    page.click("button:has-text('指派')")
    page.locator(".flash-ok").wait_for()
    assert "指派给张秀英" in page.locator(".flash-ok").inner_text()
    assert "已受理" in page.locator("h1").inner_text()
    page.select_option("select[name=status]", value="resolved")
    page.click("button:has-text('保存')")
    assert "办结要写办结说明" in page.locator(".flash-error").inner_text()
    page.select_option("select[name=status]", value="resolved")
    page.fill("textarea[name=note]", "已介绍到社区保洁岗位")
    page.click("button:has-text('保存')")
    page.locator(".flash-ok").wait_for()
    assert "已办结" in page.locator("h1").inner_text()
    assert "控制台：chaoyang" in page.locator("ol.history").inner_text()
    pushed = [o.text for o in live_server.services.engine.pull(channel="api", user="woman-1")]
    assert len(pushed) == 2 and "张秀英受理" in pushed[0] and "已介绍到社区保洁岗位" in pushed[1]
    page.click("button:has-text('退出')")
    page.wait_for_url(live_server.url + "/console/login")
    page.context.close()


def test_every_console_page_meets_its_content_security_policy(
    live_server: LiveServer, browser: Browser
) -> None:
    """The login form and every page of the navigation, and a request's page, render without
    one Content-Security-Policy violation (their styles come from console.css only)."""
    codes = sample_queue(live_server)
    page = desktop(browser)
    violations = csp_violations(page)
    log_in(page, live_server, "city", "/console")
    assert page.locator(".headline").count() == 1  # the dashboard, styled
    for link in page.locator("nav.nav a").all():
        href = link.get_attribute("href")
        assert href is not None
        page.goto(live_server.url + href)
    page.goto(f"{live_server.url}/console/requests/{codes['sj']}")
    page.goto(f"{live_server.url}/console/quarters/2026Q1/朝阳区")
    display = page.locator(".actions").first.evaluate("node => getComputedStyle(node).display")
    assert display == "flex"  # console.css's rule for the summary's actions applies
    assert violations == []
    page.context.close()


def test_district_user_cannot_see_another_district(
    live_server: LiveServer, browser: Browser
) -> None:
    """海淀区's staff see only 海淀区's request; a 朝阳区 request's URL answers 'not found'."""
    codes = sample_queue(live_server)
    page = desktop(browser)
    log_in(page, live_server, "haidian")
    assert page.locator("table.list tbody tr").count() == 1
    assert codes["hd"] in page.content() and codes["sj"] not in page.content()
    answer = page.goto(f"{live_server.url}/console/requests/{codes['sj']}")
    assert answer is not None and answer.status == 404
    assert "不在您的管辖范围内" in page.content()
    page.context.close()


def test_queue_screenshot(
    live_server: LiveServer, browser: Browser, screenshot: Callable[[Page, str], None]
) -> None:
    """The city's queue at 1280×800 renders its Chinese text (saved as console.png)."""
    codes = sample_queue(live_server)
    db = live_server.database
    more = [
        ("朝阳区", "三里屯街道", ("jobs", "knowledge"), "想学电商直播，找灵活就业的机会"),
        ("丰台区", "卢沟桥街道", ("rights",), "离婚后孩子抚养费一直拿不到"),
        ("西城区", "金融街街道", ("health",), "产后情绪低落，想找心理咨询"),
        ("通州区", None, ("relief",), "单亲妈妈，房租困难，想了解帮扶政策"),
    ]
    for n, (district, street, categories, need) in enumerate(more):
        file_request(
            db,
            district,
            street,
            requester=f"woman-x{n}",
            categories=categories,
            need=need,
            at=T0 + timedelta(days=1, hours=n),
        )
    cadre = bind_cadre(db, "朝阳区/双井街道", "李桂兰", "cadre-sj-2")
    with db.transaction() as session:
        assigned = repo.request_by_code(session, code=codes["sj"])
        resolved = repo.request_by_code(session, code=codes["health"])
        person = repo.get_user(session, user_id=cadre)
        assert assigned and resolved and person
        repo.set_status(
            session,
            request=assigned,
            status="assigned",
            actor_id=None,
            note=None,
            now=T0,
            assigned_to=person.id,
        )
        repo.set_status(
            session,
            request=resolved,
            status="resolved",
            actor_id=None,
            note="已办理医疗救助",
            now=T0,
            resolution="已办理医疗救助",
        )
    page = desktop(browser)
    log_in(page, live_server, "city")
    assert page.locator("table.list tbody tr").count() == 9
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")
    screenshot(page, "console")
    page.context.close()
