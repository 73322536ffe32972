"""A fake Telegram Bot API: in process (`RecordingRequest`, a python-telegram-bot transport)
or as a real HTTP server on 127.0.0.1 in a daemon thread (`FakeTelegramServer`).

    api = FakeBotApi()
    bot = ExtBot(TOKEN, request=RecordingRequest(api))        # offline: calls recorded
    with FakeTelegramServer(api) as server:                    # or over HTTP, for polling
        ExtBot(TOKEN, base_url=server.base_url + "/bot")

    she = TelegramUser(api, chat_id=1001)
    she.text("我要求助"); she.press("我要求助"); she.voice(); she.blocks_bot()   # update dicts
    api.block(1001)                  # sendMessage to her now answers 403 (bot was blocked)
    api.play([(she.text_("/start"), "菜单"), (she.press_("我要求助"), "困难")])

`play` scripts getUpdates as a conversation: each turn's update is handed out only after the
bot has answered the turn before with a message containing its expected text, and `finished`
is set once the last turn is answered. A button press is built from the keyboard the bot last
sent her, so the test fails when the button is not there.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from telegram.request import BaseRequest, RequestData

from tests.fakes.loopback import LoopbackServer

TOKEN = "123456:TEST-fake-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "妇情通", "username": "fuqing_test_bot"}
# Parameters python-telegram-bot sends as plain strings; every other value is JSON-encoded.
STRING_PARAMS = frozenset({"text", "callback_query_id", "url", "secret_token", "description"})
_URL_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>\w+)$")

Update = dict[str, Any]


@dataclass(frozen=True)
class ApiCall:
    """One Bot API call the fake received: the method and its decoded parameters."""

    method: str
    params: dict[str, Any]


@dataclass
class _Turn:
    action: Callable[[], Update]
    expect: str
    said: str = ""
    replies: list[str] = field(default_factory=list)
    answered: bool = False


class FakeBotApi:
    """The Bot API methods the channel uses, answered from memory; thread-safe."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.lock = threading.Condition()
        self.calls: list[ApiCall] = []
        self.blocked: set[int] = set()
        self.deleted: set[int] = set()
        self.failures: dict[str, deque[tuple[int, str]]] = {}
        self.finished = threading.Event()
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(500_001)
        self._turns: list[_Turn] = []
        self._served: list[Update] = []  # handed out by getUpdates, not yet confirmed
        self.handed_out: list[int] = []  # the update ids getUpdates handed out, in order

    # ------------------------------------------------------------------ scripting
    def next_update_id(self) -> int:
        """A fresh update id (increasing, as Telegram's are)."""
        with self.lock:
            return next(self._update_ids)

    def block(self, chat_id: int) -> None:
        """She blocked the bot: sending to her answers 403."""
        with self.lock:
            self.blocked.add(chat_id)

    def delete(self, chat_id: int) -> None:
        """Her account is gone: sending to her answers 400 chat not found."""
        with self.lock:
            self.deleted.add(chat_id)

    def fail_next(self, method: str, *, status: int = 500, description: str = "Internal") -> None:
        """Answer the next call of `method` with this HTTP status and description."""
        with self.lock:
            self.failures.setdefault(method, deque()).append((status, description))

    def play(self, turns: list[tuple[Callable[[], Update], str]]) -> None:
        """Script getUpdates as a conversation: (what she does, text the answer contains)."""
        with self.lock:
            self._turns = [_Turn(action, expect) for action, expect in turns]

    # ------------------------------------------------------------------ inspection
    def calls_to(self, method: str) -> list[ApiCall]:
        """The calls of `method`, in order."""
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int) -> list[ApiCall]:
        """The sendMessage calls to one chat, in order."""
        return [c for c in self.calls_to("sendMessage") if c.params["chat_id"] == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        """The texts sent to one chat, in order."""
        return [str(c.params["text"]) for c in self.sent_to(chat_id)]

    def keyboard_to(self, chat_id: int) -> list[tuple[str, str]]:
        """The (label, callback_data) buttons of the last message with a keyboard to a chat."""
        for call in reversed(self.sent_to(chat_id)):
            markup = call.params.get("reply_markup")
            if markup:
                return [
                    (b["text"], b["callback_data"])
                    for row in markup["inline_keyboard"]
                    for b in row
                ]
        return []

    @property
    def transcript(self) -> list[tuple[str, list[str]]]:
        """The played turns: what she did and the texts the bot sent after it."""
        with self.lock:
            return [(t.said, list(t.replies)) for t in self._turns]

    # ------------------------------------------------------------------ the API
    def call(self, method: str, params: dict[str, Any], token: str) -> tuple[int, bytes]:
        """Answer one Bot API call: (HTTP status, JSON body)."""
        if method == "getUpdates":
            return self._get_updates(params, token)
        with self.lock:
            self.calls.append(ApiCall(method, params))
            if token != self.token:
                return _error(401, "Unauthorized")
            queue = self.failures.get(method)
            if queue:
                return _error(*queue.popleft())
            status, result = self._answer(method, params)
            self.lock.notify_all()
        return (status, result) if isinstance(result, bytes) else _ok(result)

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        if method == "getMe":
            return 200, BOT_USER
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked:
                return _error(403, "Forbidden: bot was blocked by the user")
            if chat_id in self.deleted:
                return _error(400, "Bad Request: chat not found")
            text = str(params.get("text", ""))
            if not text or len(text.encode("utf-16-le")) // 2 > 4096:
                return _error(400, "Bad Request: message text is empty or too long")
            self._note_reply(text)
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": text,
            }
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return 200, message
        if method in (
            "answerCallbackQuery",
            "editMessageReplyMarkup",
            "deleteWebhook",
            "setWebhook",
            "setMyCommands",
        ):
            return 200, True
        return _error(404, f"Not Found: method {method}")

    def _note_reply(self, text: str) -> None:
        """Attribute a sent text to the turn being answered (lock held)."""
        for turn in self._turns:
            if turn.said and not turn.answered:
                turn.replies.append(text)
                turn.answered = turn.expect in text
                if turn is self._turns[-1] and turn.answered:
                    self.finished.set()
                return

    def _get_updates(self, params: dict[str, Any], token: str) -> tuple[int, bytes]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        with self.lock:
            self.calls.append(ApiCall("getUpdates", params))
            if token != self.token:
                return _error(401, "Unauthorized")
            self._served = [u for u in self._served if u["update_id"] >= offset]
            while not self._served:
                turn = self._release()
                if turn is not None:
                    update = turn.action()
                    turn.said = _describe(update)
                    self._served.append(update)
                    self.handed_out.append(update["update_id"])
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(left)
            served = list(self._served)
        return _ok(served)

    def _release(self) -> _Turn | None:
        """The next turn, once every turn before it was answered (lock held)."""
        for turn in self._turns:
            if not turn.said:
                return turn
            if not turn.answered:
                return None
        return None


def _describe(update: Update) -> str:
    if "callback_query" in update:
        return f"[按钮] {update['callback_query']['data']}"
    message = update.get("message", {})
    return str(message.get("text", "[语音]" if "voice" in message else "[其他]"))


def _ok(result: Any) -> tuple[int, bytes]:
    return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()


def _error(status: int, description: str) -> tuple[int, bytes]:
    body = {"ok": False, "error_code": status, "description": description}
    return status, json.dumps(body, ensure_ascii=False).encode()


def _split_url(url: str) -> tuple[str, str]:
    match = _URL_RE.search(urlsplit(url).path)
    return (match["token"], match["method"]) if match else ("", "")


# ----------------------------------------------------------------------------- offline transport


class RecordingRequest(BaseRequest):
    """A python-telegram-bot transport that answers from a `FakeBotApi` without any network."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (unused: nothing waits)."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Record the call and return the fake's canned JSON."""
        token, api_method = _split_url(url)
        params = dict(request_data.parameters) if request_data else {}
        return self.api.call(api_method, json.loads(json.dumps(params)), token)


# ----------------------------------------------------------------------------- HTTP server


class FakeTelegramServer(LoopbackServer):
    """The fake Bot API over HTTP on loopback; a context manager."""

    name = "fake-telegram"

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        super().__init__(_Handler, api)


class _Handler(BaseHTTPRequestHandler):
    """Decodes python-telegram-bot's form-encoded calls and answers from the `FakeBotApi`."""

    fake: FakeBotApi
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        """Every Bot API method is a POST."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if self.headers.get("Content-Type", "").startswith("application/json"):
            params: dict[str, Any] = json.loads(raw or "{}")
        else:
            params = {k: _decode(k, v) for k, v in parse_qsl(raw, keep_blank_values=True)}
        token, method = _split_url(self.path)
        status, payload = self.fake.call(method, params, token)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _decode(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


# ----------------------------------------------------------------------------- her side


@dataclass
class TelegramUser:
    """A Telegram user in a private chat with the bot; builds the updates she causes."""

    api: FakeBotApi
    chat_id: int = 1001
    first_name: str = "小红"
    chat_type: str = "private"

    @property
    def _from(self) -> dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}

    def _message(self, **content: Any) -> Update:
        chat = {"id": self.chat_id, "type": self.chat_type}
        message_id = next(self.api._message_ids)
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        return {
            "update_id": self.api.next_update_id(),
            "message": {**message, "from": self._from, **content},
        }

    def text(self, text: str) -> Update:
        """She types `text` (commands too: "/start")."""
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._message(text=text, **({"entities": entities} if entities else {}))

    def voice(self) -> Update:
        """She sends a voice message."""
        voice = {"file_id": "v1", "file_unique_id": "u1", "duration": 3, "mime_type": "audio/ogg"}
        return self._message(voice=voice)

    def press(self, label: str) -> Update:
        """She presses the button `label` of the last keyboard the bot sent her."""
        buttons = dict(self.api.keyboard_to(self.chat_id))
        assert label in buttons, f"no button {label!r} in {list(buttons)}"
        sent = [c for c in self.api.sent_to(self.chat_id) if c.params.get("reply_markup")][-1]
        message = {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": self.chat_type},
            "from": BOT_USER,
            "text": sent.params["text"],
            "reply_markup": sent.params["reply_markup"],
        }
        query_id = f"cq{self.api.next_update_id()}"
        return {
            "update_id": self.api.next_update_id(),
            "callback_query": {
                "id": query_id,
                "from": self._from,
                "message": message,
                "chat_instance": f"ci{self.chat_id}",
                "data": buttons[label],
            },
        }

    def blocks_bot(self) -> Update:
        """She blocks the bot (Telegram's my_chat_member update)."""
        chat = {"id": self.chat_id, "type": "private"}
        return {
            "update_id": self.api.next_update_id(),
            "my_chat_member": {
                "chat": chat,
                "from": self._from,
                "date": int(time.time()),
                "old_chat_member": {"user": BOT_USER, "status": "member"},
                "new_chat_member": {"user": BOT_USER, "status": "kicked", "until_date": 0},
            },
        }

    # Lazy forms for `FakeBotApi.play` (built when the turn is handed out).
    def text_(self, text: str) -> Callable[[], Update]:
        """`text`, built when the turn comes."""
        return lambda: self.text(text)

    def press_(self, label: str) -> Callable[[], Update]:
        """`press`, built when the turn comes (from the keyboard sent by then)."""
        return lambda: self.press(label)
