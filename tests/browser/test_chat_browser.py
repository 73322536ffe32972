"""The web chat in a real Chromium: a whole help request by tapping and typing, a status update
pushed over SSE without a reload, a reload that keeps the conversation, the typing indicator
and a highlighted crisis reply."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from tests.browser.conftest import LiveServer
from tests.conftest import ADMIN, API

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Route


class ChatPage:
    """The chat page as she uses it: tap a choice, type a line, read the bot's last bubble."""

    def __init__(self, page: Page, server: LiveServer) -> None:
        self.page = page
        self.server = server
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self) -> None:
        """Open /chat."""
        self.page.goto(self.server.url + "/chat")

    @property
    def bot(self) -> Locator:
        """The bot's bubbles (not the typing indicator)."""
        return self.page.locator(".row.bot:not(.typing) .bubble")

    @property
    def mine(self) -> Locator:
        """Her bubbles."""
        return self.page.locator(".row.mine .bubble")

    def expect_bot(self, text: str) -> None:
        """Wait until the bot's newest bubble contains `text`."""
        from playwright.sync_api import expect

        expect(self.bot.last).to_contain_text(text)

    def tap(self, label: str) -> None:
        """Tap the enabled choice button labelled `label` (a number may precede it)."""
        pattern = re.compile(rf"^(\d+\.\s*)?{re.escape(label)}$")
        self.page.locator(".choice:enabled").filter(has_text=pattern).click()

    def type(self, text: str, *, enter: bool = True) -> None:
        """Type a line and send it with Enter, or with the send button."""
        box = self.page.get_by_role("textbox", name="输入消息")
        box.fill(text)
        if enter:
            box.press("Enter")
        else:
            self.page.get_by_role("button", name="发送").click()

    def only_local_requests(self) -> bool:
        """True when the page requested nothing but this server (and data: URLs)."""
        return all(u.startswith((self.server.url + "/", "data:")) for u in self.requests)


def cadre_takes(server: LiveServer, code: str) -> str:
    """A cadre of 双井街道 binds through the JSON API and takes request `code`; her reply."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        invite = http.post(
            "/api/v1/invites", headers=ADMIN, json={"unit": "朝阳区/双井街道", "name": "张三"}
        )
        reply = ""
        for text in (f"绑定 {invite.json()['code']}", "确认", f"受理 {code}"):
            answer = http.post("/api/v1/messages", headers=API, json={"user": "c1", "text": text})
            reply = answer.json()["replies"][0]["text"]
        return reply


def test_a_whole_help_request_with_a_pushed_update(
    live_server: LiveServer, browser_page: Page, screenshot: Callable[[Page, str], None]
) -> None:
    """Tapping and typing files a request; the cadre's 受理 appears via SSE without a reload."""
    from playwright.sync_api import expect

    chat = ChatPage(browser_page, live_server)
    chat.open()
    chat.expect_bot("妇情通")
    expect(browser_page.locator(".choice:enabled")).to_have_count(3)
    assert not any("/chat/api/messages" in u for u in chat.requests)  # nothing sent on load

    chat.tap("我要求助")
    chat.expect_bot("请说说您遇到的困难")
    chat.type("想找一份离家近的保洁工作")
    chat.expect_bot("您在北京哪个区")  # a clear need: its category is not asked
    expect(chat.bot.last).not_to_contain_text("16. 延庆区")  # the list is on the buttons
    expect(browser_page.locator(".choice:enabled")).to_have_count(16)
    chat.tap("朝阳区")
    chat.expect_bot("哪个街道")
    chat.type("双井街道")
    chat.expect_bot("我们怎么联系您")
    chat.tap("就在这里联系我")
    chat.expect_bot("请核对")  # confirming is her consent: the summary says so
    expect(chat.bot.last).to_contain_text("即表示您同意")
    expect(browser_page.locator(".choice:enabled")).to_have_count(3)
    screenshot(browser_page, "chat")

    mine = chat.mine.last.bounding_box()
    theirs = chat.bot.last.bounding_box()
    assert mine is not None and theirs is not None
    assert mine["x"] + mine["width"] > 300 and theirs["x"] < 80  # hers right, the bot's left
    assert chat.mine.last.evaluate("e => getComputedStyle(e).fontSize") == "18px"

    chat.tap("确认")
    chat.expect_bot("已提交")
    found = re.search(r"编号 (\w+)", chat.bot.last.inner_text())
    assert found is not None
    code = found.group(1)

    browser_page.evaluate("window.stillHere = true")
    assert "已受理" in cadre_takes(live_server, code)
    notice = chat.bot.filter(has=browser_page.locator(".tag", has_text="通知"))
    expect(notice).to_contain_text(code)
    expect(notice).to_contain_text("受理")
    assert browser_page.evaluate("window.stillHere") is True  # no reload happened
    assert chat.only_local_requests(), chat.requests
    assert chat.errors == []


def test_a_reload_keeps_the_transcript_and_continues(
    live_server: LiveServer, browser_page: Page
) -> None:
    """After a reload the bubbles are still there and the next answer continues the flow."""
    from playwright.sync_api import expect

    chat = ChatPage(browser_page, live_server)
    chat.open()
    chat.tap("我要求助")
    chat.expect_bot("请说说您遇到的困难")
    chat.type("想找一份离家近的保洁工作")
    chat.expect_bot("您在北京哪个区")
    rows = browser_page.locator(".row")
    shown = rows.count()

    browser_page.reload()
    expect(rows).to_have_count(shown)
    expect(chat.mine.last).to_have_text("想找一份离家近的保洁工作")
    # the last question's: the sixteen districts
    expect(browser_page.locator(".choice:enabled")).to_have_count(16)
    expect(browser_page.locator(".choice:enabled").last).to_contain_text("延庆区")
    chat.tap("朝阳区")
    chat.expect_bot("哪个街道")  # the server kept her place: same cookie identity
    assert chat.errors == []


def test_typing_indicator_and_a_highlighted_crisis_reply(
    live_server: LiveServer, browser_page: Page
) -> None:
    """While the answer is on its way dots show; hotlines come in an urgent bubble with links."""
    from playwright.sync_api import expect

    chat = ChatPage(browser_page, live_server)
    chat.open()
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    browser_page.route("**/chat/api/messages", hold)
    chat.type("他打我，我很害怕")
    typing = browser_page.locator(".typing")
    expect(typing).to_be_visible()
    expect(browser_page.get_by_role("button", name="发送")).to_be_disabled()
    expect(browser_page.locator(".choice:enabled")).to_have_count(0)
    assert len(held) == 1
    held[0].continue_()
    expect(typing).to_have_count(0)
    urgent = browser_page.locator(".bubble.urgent")
    expect(urgent).to_contain_text("110")
    expect(urgent.locator("a[href='tel:12338']")).to_be_visible()
    browser_page.unroute("**/chat/api/messages")


def test_a_cookie_cleared_while_the_page_is_open_costs_no_message(
    live_server: LiveServer, browser_page: Page
) -> None:
    """Her cookie is gone (cleared, expired) while the page is open: the first send is refused
    for want of it, the page sends again with the new cookie, and she sees only the answer."""
    chat = ChatPage(browser_page, live_server)
    chat.open()
    chat.expect_bot("妇情通")
    browser_page.context.clear_cookies()
    chat.tap("我要求助")
    chat.expect_bot("请说说您遇到的困难")
    assert [u for u in chat.requests if u.endswith("/chat/api/messages")] == [
        live_server.url + "/chat/api/messages"
    ] * 2
    assert browser_page.locator(".note").count() == 0
    assert [e for e in chat.errors if "403" not in e] == []  # Chromium logs the refused fetch
