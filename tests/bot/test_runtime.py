"""What `fuqing serve` asks of the interpreter and uvicorn, down to a real server: the warning
on a Python with CVE-2024-7592, oversized heads refused while the server keeps answering, and
X-Forwarded-For ignored unless a proxy is listed."""

from __future__ import annotations

import contextlib
import http.cookies
import socket
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from bot.config import Settings
from bot.runtime import interpreter_warning, uvicorn_options
from tests.scale.servers import Server, server_env

OLD_PARSER = SimpleNamespace(_QuotePatt=object())  # http.cookies before the fix
NEW_PARSER = SimpleNamespace()  # the fix removed _QuotePatt


@pytest.mark.parametrize(
    ("version", "cookies", "warned"),
    [
        ((3, 11, 7), OLD_PARSER, True),
        ((3, 11, 9), OLD_PARSER, True),
        ((3, 11, 10), NEW_PARSER, False),
        ((3, 12, 5), OLD_PARSER, True),
        ((3, 12, 6), NEW_PARSER, False),
        ((3, 12, 12), NEW_PARSER, False),
        ((3, 13, 0), NEW_PARSER, False),
        ((3, 11, 2), NEW_PARSER, False),  # Debian's 3.11.2 with the fix backported
    ],
)
def test_interpreter_warning_names_the_cve_and_the_fixed_releases(
    version: tuple[int, int, int], cookies: object, warned: bool
) -> None:
    """Below 3.11.10 / 3.12.6 with the quadratic parser still in http.cookies: a warning that
    names the CVE and the releases to run; otherwise none."""
    warning = interpreter_warning(version, cookies)
    assert (warning is not None) == warned
    if warning is not None:
        running = ".".join(map(str, version))
        assert f"Python {running}" in warning and "CVE-2024-7592" in warning
        assert "3.11.10" in warning and "3.12.6" in warning


def test_uvicorn_caps_the_head_and_leaves_forwarded_headers_to_the_app() -> None:
    """h11 with FUQING_MAX_HEADER_BYTES as its buffer cap; uvicorn's proxy headers off."""
    options = uvicorn_options(Settings(max_header_bytes=8192))
    assert options["http"] == "h11" and options["h11_max_incomplete_event_size"] == 8192
    assert options["proxy_headers"] is False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `fuqing serve` on SQLite with a per-IP budget of 3 requests a minute (only the
    forwarded-for test spends it: refused heads and /healthz are not counted)."""
    directory = tmp_path_factory.mktemp("served")
    env = server_env(f"sqlite:///{directory / 'fuqing.db'}", directory)
    env["FUQING_RATE_IP_PER_MINUTE"] = "3"
    running = Server(env).start()
    try:
        yield running
    finally:
        running.stop()


def _raw(port: int, head: bytes) -> bytes:
    """Send one raw request head; the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # The server may close while the rest is still being sent: its answer is read anyway.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head)
        return sock.recv(4096).split(b"\r\n", 1)[0]


def test_a_real_server_refuses_oversized_heads_and_keeps_answering(server: Server) -> None:
    """A 60 KB Cookie of backslashes (CVE-2024-7592's input) gets 431 without being parsed, a
    10 MB header is cut off while it is read (400), and /healthz answers after both."""
    cookie = b'a="' + b"\\" * 60_000 + b'"'
    head = b"GET /chat HTTP/1.1\r\nHost: t\r\nCookie: " + cookie + b"\r\n\r\n"
    assert _raw(server.port, head) == b"HTTP/1.1 431 Request Header Fields Too Large"
    huge = b"GET /chat HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"p" * 10_000_000 + b"\r\n\r\n"
    assert _raw(server.port, huge) == b"HTTP/1.1 400 Bad Request"
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200


def test_a_real_server_ignores_forwarded_for_from_an_unlisted_peer(server: Server) -> None:
    """By default a loopback client's X-Forwarded-For does not give it a new IP per request:
    its budget of 3 runs out (uvicorn alone trusted 127.0.0.1 and gave each value a budget)."""
    statuses = [
        httpx.get(
            f"{server.base}/console/login", headers={"X-Forwarded-For": f"10.0.0.{n}"}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_a_real_server_warns_about_an_unpatched_interpreter(server: Server) -> None:
    """`fuqing serve` logs the CVE warning exactly when this interpreter is affected."""
    affected = interpreter_warning(tuple(sys.version_info[:3]), http.cookies) is not None
    assert ("CVE-2024-7592" in server.output()) == affected
