"""uvicorn's access log through the app's own logging set-up: no callback query string (a
delivery's signature, timestamp, nonce, echostr), no phone number in any URL."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
import uvicorn

from bot.access_log import AccessLogFilter, clean_url
from bot.cli.startup import setup_logging
from bot.config import Settings
from bot.engine import Engine
from tests.conftest import served

pytestmark = pytest.mark.usefixtures("restore_root_logger")

SIGNED = "signature=5f1e0c&timestamp=1773799200&nonce=902145&openid=oVictim01&msg_signature=77ab"


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        (f"/wechat?{SIGNED}", "/wechat?***"),
        ("/wecom?msg_signature=1&timestamp=2&nonce=3&echostr=abc", "/wecom?***"),
        ("/telegram", "/telegram"),
        ("/console/login?next=%2Fconsole", "/console/login?next=%2Fconsole"),
        (
            "/console/login?next=/console/find%3Fq%3D13812345678",
            "/console/login?next=/console/find?q=138****5678",
        ),
        ("/x?q=%E5%BC%A013812345678", "/x?q=%E5%BC%A0138****5678"),
        ("/x?id=110105199001011234%0A", "/x?id=110105********1234%0A"),
    ],
    ids=["wechat", "wecom", "telegram", "plain", "encoded-phone", "after-escape", "id-newline"],
)
def test_clean_url(url: str, logged: str) -> None:
    """Callback queries are dropped; phones and ID numbers are masked even percent-encoded, and
    a masked URL is re-encoded (a decoded newline cannot split the line)."""
    assert clean_url(url) == logged


async def test_a_real_uvicorn_access_log_hides_callback_queries_and_phones(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real uvicorn server, logging as `fuqing serve` sets it up: the access lines of
    /wechat, /wecom and /telegram show no query string, and a console `next=` shows the phone
    masked."""
    settings = settings.model_copy(update={"wechat_token": "access-log-token"})
    setup_logging(settings)
    logging.getLogger("bot").setLevel(logging.WARNING)  # only the access lines matter here
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # connections wait in the backlog until the server serves them
    port = sock.getsockname()[1]
    try:
        async with served(settings, engine) as app:
            config = uvicorn.Config(app.app, log_config=None, lifespan="off")
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base) as http:
                await http.post(f"/wechat?{SIGNED}&encrypt_type=aes", content=b"<xml/>")
                await http.get("/wechat?signature=5f1e0c&timestamp=1&nonce=2&echostr=e3c40")
                await http.get("/wecom?msg_signature=77ab&timestamp=1&nonce=2&echostr=e3c40")
                await http.post("/telegram?secret=a1b2c3", content=b"{}")
                await http.get("/console/login?next=/console/find%3Fq%3D13812345678")
            server.should_exit = True
            await serving
    finally:
        sock.close()
        for found in [f for f in logging.getLogger("uvicorn.access").filters]:
            if isinstance(found, AccessLogFilter):
                logging.getLogger("uvicorn.access").removeFilter(found)
    lines = [line for line in capsys.readouterr().err.splitlines() if "uvicorn.access" in line]
    assert len(lines) == 5, lines
    assert '"POST /wechat?*** HTTP/1.1" 403' in lines[0]
    assert '"GET /wechat?*** HTTP/1.1" 403' in lines[1]
    assert '"GET /wecom?***' in lines[2] and '"POST /telegram?***' in lines[3]
    text = "\n".join(lines)
    for secret in ("5f1e0c", "902145", "77ab", "e3c40", "oVictim01", "a1b2c3", "13812345678"):
        assert secret not in text, secret
    assert "next=/console/find?q=138****5678" in lines[4]
