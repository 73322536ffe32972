"""转人工 in real Chromium: a woman asks for a person in the web chat, a staff member answers in the
console's inbox, she sees it without reloading, and they go back and forth twice; 结束会话 gives
her back to the bot."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.browser.conftest import LiveServer, csp_violations
from tests.browser.test_chat_browser import ChatPage
from tests.browser.test_console_browser import desktop, log_in
from tests.console.sessions import bind_cadre, make_staff

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

POLL_MS = 4000  # bot/console/static/inbox.js


def test_she_and_staff_talk_in_chat_and_console(
    live_server: LiveServer,
    browser_page: Page,
    browser: Browser,
    screenshot: Callable[[Page, str], None],
) -> None:
    """Her 转人工 opens a thread of 双井街道; staff of 朝阳区 answer in the console; each side sees
    the other's words without a reload, twice; 结束会话 tells her the bot is back."""
    from playwright.sync_api import expect

    bind_cadre(live_server.database, "朝阳区/双井街道", "张秀英", "cadre-sj")
    make_staff(live_server.database, "chaoyang", "朝阳区")
    chat = ChatPage(browser_page, live_server)
    chat.open()
    chat.expect_bot("妇情通")
    chat.type("我住朝阳区双井街道，想找个离家近的工作")
    chat.expect_bot("我们怎么联系您")
    chat.type("转人工")
    chat.expect_bot("双井街道")
    found = re.search(r"会话编号 (H\w{5})", chat.bot.last.inner_text())
    assert found is not None
    code = found.group(1)
    browser_page.evaluate("window.stillHere = true")

    staff = desktop(browser)
    violations = csp_violations(staff)
    log_in(staff, live_server, "chaoyang", "/console/inbox")
    row = staff.locator("#inbox-open tbody tr").first
    expect(row).to_contain_text(code)
    expect(row).to_contain_text("等待回复")
    screenshot(staff, "console-inbox")
    row.locator("a").click()
    messages = staff.locator("#thread-messages li")
    expect(messages.first).to_contain_text("想找个离家近的工作")

    for staff_says, she_says in (
        ("您好，我是朝阳区妇联的小王，您想找什么样的工作？", "超市或者食堂都行，下午要接孩子"),
        ("好的，劲松有家超市在招理货员，我把电话发您", "太好了，谢谢您"),
    ):
        staff.fill("#reply-text", staff_says)
        staff.click("button:has-text('发送')")
        expect(staff.locator(".flash")).to_contain_text("已回复")
        chat.expect_bot(staff_says)  # pushed to her page: no reload
        chat.type(she_says)
        chat.expect_bot("已转给工作人员")
        expect(messages.last).to_contain_text(she_says, timeout=POLL_MS * 3)  # the page polls
    screenshot(staff, "console-thread")

    staff.click("button:has-text('结束会话')")
    expect(staff.locator(".flash")).to_contain_text("已结束会话")
    chat.expect_bot("由我继续为您服务")
    chat.type("我要求助")
    chat.expect_bot("请说说您遇到的困难")
    assert browser_page.evaluate("window.stillHere") is True

    staff.goto(live_server.url + "/console/assessment")  # the hand-off counts for 双井街道
    first = staff.locator("#assessment tbody tr").first
    expect(first).to_contain_text("朝阳区双井街道妇联")
    expect(first).to_contain_text("100%")  # answered within 10 minutes
    screenshot(staff, "console-assessment")
    assert chat.errors == [] and violations == []
