"""Load benchmark: many residents at once walking through the help flow over HTTP.

    python bench/load.py [--connections 32] [--seconds 8] [--pg-url URL]

Starts the real server (`fuqing serve`, uvicorn on loopback) on a throw-away SQLite file with
WeChat in safe mode, and a bare FastAPI endpoint of the same request shape (bearer check, JSON
body parsed into a model, `{"replies": [...]}` back, no engine, no database) in the same run,
and two "floor" endpoints: the bare one plus only what every message must cost on this stack —
the NLP analysis and one SQLite transaction with the message path's statements, no flow — once
through the repository functions the engine uses, once as lean as SQLAlchemy Core allows (see
`floor_app`). Then N keep-alive connections each play residents one after another, each resident
sending the seven messages of a help request, via `POST /api/v1/messages` and via `/wechat` (AES
safe mode, a fresh MsgId per message). Prints messages/s, p50/p99 latency and errors per
scenario. Goals (SQLite, one worker, 32 connections): at least 25 % of the bare endpoint's
throughput, p99 under 250 ms, zero errors. With FUQING_TEST_DATABASE_URL set (or --pg-url), the
same on PostgreSQL with 1 and 2 workers, in a throw-away schema dropped afterwards. Rate limits
are turned off for the servers (FUQING_RATE_*_PER_MINUTE=0). Prints figures; never asserts.

The client is a small HTTP/1.1 keep-alive client on asyncio streams, so that the client's own
cost (httpx's is several times the bare endpoint's) does not cap the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout, uninstalled

from _reference import API_TOKEN, bare_app, floor_app  # noqa: E402

from bot.channels.wechat.crypto import MessageCrypto, sha1_signature  # noqa: E402

PG_URL_VARIABLE = "FUQING_TEST_DATABASE_URL"
WECHAT_TOKEN = "benchwechattoken"
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECHAT_APPID = "wx-bench-appid"
HELP_REQUEST = ("我要求助", "想找一份离家近的保洁工作", "对", "朝阳区双井街道", "1", "确认")
GOAL_SHARE, GOAL_P99_MS = 0.25, 250.0


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a benchmarked `fuqing serve`: test settings, WeChat in safe mode,
    no scheduler, rate limits off, warnings only."""
    return {
        **os.environ,
        "FUQING_ENV": "test",
        "FUQING_DATABASE_URL": database_url,
        "FUQING_DATA_DIR": str(data_dir),
        "FUQING_SECRET_KEY": "bench-secret-key-0c9d2e7a5b",
        "FUQING_API_TOKEN": API_TOKEN,
        "FUQING_ADMIN_TOKEN": "bench-admin-token-77aa",
        "FUQING_WECHAT_TOKEN": WECHAT_TOKEN,
        "FUQING_WECHAT_APPID": WECHAT_APPID,
        "FUQING_WECHAT_AES_KEY": WECHAT_AES_KEY,
        "FUQING_SCHEDULER": "off",
        "FUQING_LOG_LEVEL": "WARNING",
        "FUQING_RATE_USER_PER_MINUTE": "0",
        "FUQING_RATE_IP_PER_MINUTE": "0",
        "FUQING_RATE_CALLBACK_IP_PER_MINUTE": "0",
    }


@contextmanager
def running(
    command: list[str], env: dict[str, str], port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait for /healthz, stop it afterwards."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"server did not start: {log.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
                    if b" 200 " in sock.recv(200):
                        break
            except OSError:
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def serve_command(port: int, workers: int) -> list[str]:
    """`fuqing serve` on loopback (with `--workers` when more than one)."""
    command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
    return command + (["--workers", str(workers)] if workers > 1 else [])


# ----------------------------------------------------------------------------- the client


class Connection:
    """One HTTP/1.1 keep-alive connection to 127.0.0.1:port (reopened after an error)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, path: str, body: bytes, content_type: str, auth: str = ""
    ) -> tuple[int, bytes]:
        """POST `body` to `path`; return the status and the body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{auth}\r\n"
        )
        try:
            self.writer.write(head.encode() + body)
            await self.writer.drain()
            status = int((await self.reader.readline()).split()[1])
            length, chunked = 0, False
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "transfer-encoding" and "chunked" in value:
                    chunked = True
            if not chunked:
                return status, await self.reader.readexactly(length)
            data = b""
            while size := int((await self.reader.readline()).strip(), 16):
                data += await self.reader.readexactly(size + 2)
            await self.reader.readline()
            return status, data
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


Send = Callable[[Connection, str, str, int], Awaitable[bool]]


def api_sender(token: str = API_TOKEN) -> Send:
    """Send one message through `POST /api/v1/messages`; True when it got replies."""
    auth = f"Authorization: Bearer {token}\r\n"

    async def send(connection: Connection, user: str, text: str, _step: int) -> bool:
        body = json.dumps({"user": user, "text": text}, ensure_ascii=False).encode()
        status, answer = await connection.request(
            "/api/v1/messages", body, "application/json", auth
        )
        return status == 200 and b'"replies"' in answer

    return send


def wechat_sender() -> Send:
    """Send one message to `/wechat` in safe mode; True when a passive (encrypted) reply came."""
    crypto = MessageCrypto(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APPID)
    ids = itertools.count(7_100_000_000_000_000_000)
    nonces = itertools.count(1_320_562_132)  # a fresh nonce per delivery (the nonce memory)

    async def send(connection: Connection, user: str, text: str, _step: int) -> bool:
        created = int(time.time())
        nonce = str(next(nonces))
        xml = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{created}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
            f"<MsgId>{next(ids)}</MsgId></xml>"
        )
        encrypted = crypto.encrypt(xml)
        timestamp = str(created)
        query = (
            f"signature={sha1_signature(WECHAT_TOKEN, timestamp, nonce)}&timestamp={timestamp}"
            f"&nonce={nonce}&openid={user}&encrypt_type=aes"
            f"&msg_signature={crypto.signature_of(timestamp, nonce, encrypted)}"
        )
        body = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        ).encode()
        status, answer = await connection.request(f"/wechat?{query}", body, "text/xml")
        return status == 200 and answer.startswith(b"<xml>") and b"<Encrypt>" in answer

    return send


@dataclass
class Result:
    """One scenario's figures."""

    label: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    residents: int = 0

    @property
    def rate(self) -> float:
        """Messages answered per second."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def line(self, bare: Result | None = None) -> str:
        """One printed line of figures (with the share of the bare endpoint's throughput)."""
        ordered = sorted(self.latencies_ms) or [0.0]
        share = f" = {self.rate / bare.rate:.0%} of bare" if bare and bare.rate else ""
        return (
            f"{self.label:<34} {len(self.latencies_ms):>6} msgs {self.rate:>7.0f} msgs/s{share}; "
            f"p50 {percentile(ordered, 50):6.1f} ms, p99 {percentile(ordered, 99):6.1f} ms; "
            f"errors {self.errors}; residents started {self.residents}"
        )


def percentile(ordered: list[float], pct: float) -> float:
    """The nearest-rank percentile of an already sorted list."""
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def drive(label: str, port: int, send: Send, connections: int, seconds: float) -> Result:
    """Run `connections` loops of residents (each the whole help flow) for `seconds`."""
    run = uuid.uuid4().hex[:6]
    result = Result(label=label, seconds=seconds)
    counter = itertools.count()
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        connection = Connection(port)
        while time.perf_counter() < deadline:
            user = f"r{run}-{next(counter)}"
            result.residents += 1
            for step, text in enumerate(HELP_REQUEST):
                if time.perf_counter() >= deadline:
                    break
                started = time.perf_counter()
                try:
                    ok = await send(connection, user, text, step)
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    ok = False
                if ok:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                else:
                    result.errors += 1
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result


def scenario(label: str, port: int, send: Send, connections: int, seconds: float) -> Result:
    """Warm the server up (a second), then measure; print and return the figures."""
    asyncio.run(drive("warm-up", port, send, min(connections, 8), 1.0))
    return asyncio.run(drive(label, port, send, connections, seconds))


# ----------------------------------------------------------------------------- databases


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A migrated throw-away schema of the PostgreSQL database at `url` (its URL); dropped."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import Database
    from storage.migrate import upgrade

    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = Database(url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    scoped_url = scoped.render_as_string(hide_password=False)
    try:
        db = Database(scoped_url)
        upgrade(db)
        db.dispose()
        yield scoped_url
    finally:
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def bench_server(
    label: str,
    database_url: str,
    data: Path,
    workers: int,
    args: argparse.Namespace,
    bare: Result | None,
) -> list[Result]:
    """Serve `database_url` with `workers` workers; run the API and WeChat scenarios."""
    port = free_port()
    results = []
    with running(serve_command(port, workers), server_env(database_url, data), port):
        for channel, send in (("API", api_sender()), ("WeChat safe mode", wechat_sender())):
            result = scenario(
                f"{label}, {workers} worker{'s' if workers > 1 else ''}, {channel}",
                port,
                send,
                args.connections,
                args.seconds,
            )
            print(result.line(bare), flush=True)
            results.append(result)
    return results


def main() -> None:
    """Parse the arguments, run the bare endpoint and the servers, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0, help="per scenario")
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_VARIABLE))
    parser.add_argument("--bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--floor-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-core", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare or args.floor:  # a reference endpoint's own process
        import uvicorn

        app = bare_app() if args.bare else floor_app(args.floor_dir, core=args.floor_core)
        uvicorn.run(app, host="127.0.0.1", port=args.bare or args.floor, log_level="warning")
        return

    print(
        f"{args.connections} connections, {args.seconds:.0f} s per scenario, help flow of "
        f"{len(HELP_REQUEST)} messages per resident",
        flush=True,
    )
    port = free_port()
    with running([sys.executable, __file__, "--bare", str(port)], dict(os.environ), port):
        bare = scenario("bare FastAPI endpoint", port, api_sender(), args.connections, args.seconds)
    print(bare.line(), flush=True)

    with tempfile.TemporaryDirectory(prefix="fuqing-load-") as tmp:
        data = Path(tmp)
        for label, flag in (
            ("floor, repository", []),
            ("floor, SQLAlchemy Core", ["--floor-core"]),
        ):
            port = free_port()
            floor_dir = data / label.split()[-1].lower()
            floor_dir.mkdir()
            command = [
                sys.executable,
                __file__,
                "--floor",
                str(port),
                "--floor-dir",
                str(floor_dir),
            ]
            with running([*command, *flag], dict(os.environ), port):
                floor = scenario(label, port, api_sender(), args.connections, args.seconds)
            print(floor.line(bare), flush=True)
        sqlite = bench_server("SQLite", f"sqlite:///{data / 'load.db'}", data, 1, args, bare)
        api = sqlite[0]
        p99 = percentile(sorted(api.latencies_ms) or [0.0], 99)
        verdict = (
            "met"
            if api.rate >= GOAL_SHARE * bare.rate and p99 < GOAL_P99_MS and api.errors == 0
            else "NOT met"
        )
        print(
            f"goals (SQLite API ≥ {GOAL_SHARE:.0%} of bare, p99 < {GOAL_P99_MS:.0f} ms, "
            f"0 errors): {verdict}",
            flush=True,
        )
        if not args.pg_url:
            print(f"PostgreSQL: skipped (set {PG_URL_VARIABLE} or --pg-url to include it)")
            return
        for workers in (1, 2):
            with postgres_schema(args.pg_url) as url:
                bench_server("PostgreSQL", url, data, workers, args, bare)


if __name__ == "__main__":
    main()
