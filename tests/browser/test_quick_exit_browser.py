"""快速离开 in a real Chromium: after a conversation, one tap leaves nothing of it in the page,
the browser's storage (localStorage, sessionStorage, IndexedDB) or the chat's cookies, Back
does not return to it, and the chat opened again starts over. The transcript lives in the tab's
sessionStorage only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels import webchat
from tests.browser.conftest import LiveServer, csp_violations
from tests.browser.test_chat_browser import ChatPage

if TYPE_CHECKING:
    from playwright.sync_api import Page

NEED = "想找一份离家近的保洁工作"
TRACES = (NEED, "请说说您遇到的困难", "妇情通", "妇联", "求助")


def storage_of(page: Page) -> dict[str, object]:
    """What the page's origin keeps: localStorage and sessionStorage entries, IndexedDB names."""
    result: dict[str, object] = page.evaluate(
        """async () => ({
            local: Object.entries(localStorage),
            session: Object.entries(sessionStorage),
            indexed: indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [],
        })"""
    )
    return result


def chat_cookies(page: Page, server: LiveServer) -> list[str]:
    """The names of the cookies the browser would send to the chat."""
    return [c["name"] for c in page.context.cookies(server.url + "/chat")]


def test_quick_exit_leaves_nothing_of_the_conversation(
    live_server: LiveServer, browser_page: Page
) -> None:
    """Chat, press 快速离开: the neutral page replaces the chat; no trace in the page, storage,
    cookies or history; the chat opened again is a new conversation with a new identity."""
    from playwright.sync_api import expect

    page = browser_page
    violations = csp_violations(page)
    page.goto("about:blank")  # where she was before the chat
    chat = ChatPage(page, live_server)
    chat.open()
    chat.tap("我要求助")
    chat.expect_bot("请说说您遇到的困难")
    chat.type(NEED)
    chat.expect_bot("您在北京哪个区")
    kept = storage_of(page)
    assert kept["local"] == [] and NEED in str(kept["session"])  # the tab's session only
    assert chat_cookies(page, live_server) == [webchat.COOKIE]

    exit_button = page.get_by_role("button", name="快速离开")
    expect(exit_button).to_be_visible()
    box = exit_button.bounding_box()
    assert box is not None and box["y"] < 60 and box["height"] >= 36  # at the top, big enough
    exit_button.click()
    page.wait_for_url(live_server.url + webchat.EXIT_PATH)
    expect(page.locator("h1")).to_have_text("生活小贴士")
    html = page.content()
    assert page.title() == "生活小贴士"
    for trace in TRACES:
        assert trace not in html, trace
    assert storage_of(page) == {"local": [], "session": [], "indexed": []}
    assert chat_cookies(page, live_server) == []
    assert page.context.cookies() == []

    page.go_back()  # the chat's entry was replaced: Back goes where she was before it
    assert "/chat" not in page.url
    for trace in TRACES:
        assert trace not in page.content(), trace
    page.go_forward()
    assert page.url == live_server.url + webchat.EXIT_PATH

    chat.open()  # opened again: a new conversation, and the server does not know her
    expect(chat.bot).to_have_count(1)
    assert NEED not in page.content()
    chat.type("你好")
    expect(chat.bot.filter(has_text="隐私说明")).to_have_count(1)  # the greeting of someone new
    assert violations == []
    assert chat.errors == []


def test_the_transcript_stays_in_its_tab(live_server: LiveServer, browser_page: Page) -> None:
    """A reload keeps the conversation (sessionStorage), but another tab of the same browser
    does not see it, and nothing is written to localStorage."""
    from playwright.sync_api import expect

    chat = ChatPage(browser_page, live_server)
    chat.open()
    chat.tap("我要求助")
    chat.expect_bot("请说说您遇到的困难")
    browser_page.reload()
    expect(chat.mine.last).to_have_text("我要求助")
    other = browser_page.context.new_page()
    other.goto(live_server.url + "/chat")
    expect(other.locator(".row.bot .bubble")).to_have_count(1)  # only the welcome
    assert "我要求助" not in other.locator(".row.mine").all_inner_texts()
    assert storage_of(other)["local"] == []
    other.close()


def test_a_transcript_kept_by_an_older_page_is_wiped(
    live_server: LiveServer, browser_page: Page
) -> None:
    """A transcript the chat kept in localStorage before this change is removed on the next
    visit, not shown."""
    browser_page.goto(live_server.url + webchat.EXIT_PATH)
    old = '[{"role":"me","text":"旧的对话"}]'
    browser_page.evaluate(f"localStorage.setItem('fuqing.chat.transcript.v1', '{old}')")
    chat = ChatPage(browser_page, live_server)
    chat.open()
    chat.expect_bot("妇情通")
    assert "旧的对话" not in browser_page.content()
    assert storage_of(browser_page)["local"] == []
