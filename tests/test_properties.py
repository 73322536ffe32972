"""Property-based tests (hypothesis) of the JSON API and the WeChat callback: whatever arrives,
no 5xx and no error logged, through the real app on the test database."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.wechat.crypto import MessageCrypto, sha1_signature
from bot.config import Settings
from bot.engine import Engine
from bot.nlp import NLP
from storage.db import Database
from tests.conftest import API, ErrorLog, served

TOKEN = "prop-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxprop"
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, control characters and lone surrogates included.
ANY_CHAR = st.characters(codec=None, categories=None)
ANY_TEXT = st.text(ANY_CHAR, max_size=80) | st.sampled_from(["", " ", "\x00", "字" * 2001])
SHORT_TEXT = st.text(ANY_CHAR, max_size=40)  # query strings stay under httpx's URL limit
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
MESSAGE_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "user": ANY_TEXT | JSON_SCALARS,
        "text": ANY_TEXT | JSON_SCALARS,
        "msg_id": ANY_TEXT | JSON_SCALARS,
        "extra": ANY_JSON,
    },
)


@pytest.fixture
async def http(
    settings: Settings, database: Database, nlp: NLP, engine: Engine
) -> AsyncIterator[httpx.AsyncClient]:
    """The app (WeChat in safe mode, rate limits off) through httpx's ASGI transport."""
    changed = settings.model_copy(
        update={
            "wechat_token": TOKEN,
            "wechat_aes_key": AES_KEY,
            "wechat_appid": APPID,
            "rate_user_per_minute": 0,
            "rate_ip_per_minute": 0,
        }
    )
    async with served(changed, engine) as app:
        yield app.http


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=True).encode()  # lone surrogates become \\udXXX


def _signed(engine: Engine) -> dict[str, str]:
    """A plaintext signature of a fresh nonce at the app's time (inside the 5-minute window)."""
    timestamp, nonce = str(int(engine.clock().timestamp())), secrets.token_hex(8)
    return {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": sha1_signature(TOKEN, timestamp, nonce),
    }


# ----------------------------------------------------------------------------- JSON API


@EXAMPLES
@given(user=ANY_TEXT, text=ANY_TEXT, msg_id=st.none() | ANY_TEXT)
async def test_api_any_unicode_message(
    http: httpx.AsyncClient, error_log: ErrorLog, user: str, text: str, msg_id: str | None
) -> None:
    """Any user, text and msg_id (controls, surrogates, empty, huge): a 2xx or 4xx answer."""
    body = _dumps({"user": user, "text": text, "msg_id": msg_id})
    response = await http.post(
        "/api/v1/messages", headers={**API, "Content-Type": "application/json"}, content=body
    )
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert isinstance(response.json()["replies"], list)
    error_log.check()


@EXAMPLES
@given(data=MESSAGE_FIELDS | ANY_JSON)
async def test_api_any_json_shape(http: httpx.AsyncClient, error_log: ErrorLog, data: Any) -> None:
    """Any JSON document as the body: a 2xx or 4xx answer, never an error."""
    response = await http.post(
        "/api/v1/messages",
        headers={**API, "Content-Type": "application/json"},
        content=_dumps(data),
    )
    assert response.status_code < 500, response.text
    error_log.check()


@EXAMPLES
@given(body=st.binary(max_size=300))
async def test_api_any_bytes(http: httpx.AsyncClient, error_log: ErrorLog, body: bytes) -> None:
    """Any bytes as the body: a 4xx (or a reply), never a 5xx."""
    response = await http.post("/api/v1/messages", headers=API, content=body)
    assert response.status_code < 500, response.text
    error_log.check()


# ----------------------------------------------------------------------------- WeChat

XML_TAGS = st.sampled_from(
    ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
     "EventKey", "Recognition", "Encrypt", "xml", "a"]
)  # fmt: skip
WECHAT_PARAMS = st.sampled_from(
    ["signature", "timestamp", "nonce", "echostr", "msg_signature", "encrypt_type", "openid"]
)
MSG_TYPES = st.sampled_from(["text", "event", "voice", "image", "location", "link", "video"])
XML_VALUES = ANY_TEXT | MSG_TYPES | st.integers().map(str)


@st.composite
def xmlish(draw: st.DrawFn) -> str:
    """An XML-like message: known and unknown tags with arbitrary (CDATA or raw) values."""
    fields = draw(st.lists(st.tuples(XML_TAGS, XML_VALUES, st.booleans()), max_size=8))
    inner = "".join(
        f"<{tag}><![CDATA[{value}]]></{tag}>" if cdata else f"<{tag}>{value}</{tag}>"
        for tag, value, cdata in fields
    )
    return draw(st.sampled_from([f"<xml>{inner}</xml>", inner, f"<xml>{inner}"]))


@EXAMPLES
@given(body=st.binary(max_size=400) | xmlish().map(lambda s: s.encode("utf-8", "surrogatepass")))
async def test_wechat_any_body_with_a_valid_signature(
    http: httpx.AsyncClient, engine: Engine, error_log: ErrorLog, body: bytes
) -> None:
    """Signed deliveries with any bytes or XML-ish body: never a 5xx, nothing logged as error."""
    response = await http.post("/wechat", params=_signed(engine), content=body)
    assert response.status_code < 500, response.text
    error_log.check()


@EXAMPLES
@given(
    user=ANY_TEXT,
    msg_type=MSG_TYPES | ANY_TEXT,
    content=ANY_TEXT,
    msg_id=ANY_TEXT,
    created=ANY_TEXT | st.integers().map(str),
    safe=st.booleans(),
)
async def test_wechat_well_formed_messages_with_any_content(
    http: httpx.AsyncClient,
    engine: Engine,
    error_log: ErrorLog,
    user: str,
    msg_type: str,
    content: str,
    msg_id: str,
    created: str,
    safe: bool,
) -> None:
    """Well-formed, validly signed (and encrypted) messages with arbitrary field values."""

    def cdata(value: str) -> str:
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"

    xml = (
        f"<xml><ToUserName>{cdata('gh_prop')}</ToUserName><FromUserName>{cdata(user)}"
        f"</FromUserName><CreateTime>{cdata(created)}</CreateTime><MsgType>{cdata(msg_type)}"
        f"</MsgType><Content>{cdata(content)}</Content><MsgId>{cdata(msg_id)}</MsgId></xml>"
    )
    params = _signed(engine)
    body = xml.encode("utf-8", "surrogatepass")
    if safe:
        crypto = MessageCrypto(TOKEN, AES_KEY, APPID)
        encrypted = crypto.encrypt(xml.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
        params["encrypt_type"] = "aes"
        params["msg_signature"] = crypto.signature_of(
            params["timestamp"], params["nonce"], encrypted
        )
        body = f"<xml><Encrypt>{cdata(encrypted)}</Encrypt></xml>".encode()
    response = await http.post("/wechat", params=params, content=body)
    assert response.status_code < 500, response.text
    error_log.check()


@EXAMPLES
@given(
    params=st.dictionaries(WECHAT_PARAMS | SHORT_TEXT, SHORT_TEXT, max_size=6),
    method=st.sampled_from(["GET", "POST"]),
    body=st.binary(max_size=100),
)
async def test_wechat_any_query(
    http: httpx.AsyncClient,
    error_log: ErrorLog,
    params: dict[str, str],
    method: str,
    body: bytes,
) -> None:
    """Arbitrary query parameters on GET (verification) and POST: never a 5xx."""
    clean = {
        k.encode("utf-8", "surrogatepass").decode("utf-8", "replace"): v.encode(
            "utf-8", "surrogatepass"
        ).decode("utf-8", "replace")
        for k, v in params.items()
    }
    response = await http.request(
        method, "/wechat", params=clean, content=body if method == "POST" else None
    )
    assert response.status_code < 500, response.text
    error_log.check()
