"""Real `fuqing serve` processes and a private PostgreSQL instance for the scale and fault tests.

`Server` runs one worker process on a loopback port (the tests start two, on two ports, so each
request's worker is known). `OwnPostgres` is a throw-away PostgreSQL cluster (initdb into a
temporary directory, its own port) that a test may stop and start; the shared server is never
touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
API_TOKEN = "scale-api-token-3b1e"
ADMIN_TOKEN = "scale-admin-token-9f0d"
WECHAT_TOKEN = "scalewechattoken"
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
API = {"Authorization": f"Bearer {API_TOKEN}"}
HELP_REQUEST = ("我要求助", "想找一份离家近的保洁工作", "朝阳区双井街道", "1", "确认")
FILED_MARK = "已提交"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a test worker: test secrets, WeChat safe mode, no scheduler, no
    rate limits (the tests send bursts on purpose)."""
    from tests.conftest import TEST_SECRET_KEY
    from tests.fakes.wechat_server import APPID

    return {
        **os.environ,
        "FUQING_ENV": "test",
        "FUQING_DATABASE_URL": database_url,
        "FUQING_DATA_DIR": str(data_dir),
        # The tests' key: a test reads what the workers stored (message texts are encrypted).
        "FUQING_SECRET_KEY": TEST_SECRET_KEY,
        "FUQING_API_TOKEN": API_TOKEN,
        "FUQING_ADMIN_TOKEN": ADMIN_TOKEN,
        "FUQING_WECHAT_TOKEN": WECHAT_TOKEN,
        "FUQING_WECHAT_APPID": APPID,
        "FUQING_WECHAT_AES_KEY": WECHAT_AES_KEY,
        "FUQING_SCHEDULER": "off",
        "FUQING_LOG_LEVEL": "INFO",
        "FUQING_RATE_USER_PER_MINUTE": "0",
        "FUQING_RATE_IP_PER_MINUTE": "0",
        "FUQING_RATE_CALLBACK_IP_PER_MINUTE": "0",
        **extra,
    }


@dataclass
class Server:
    """One `fuqing serve` process on 127.0.0.1:port; its output goes to `log`."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    log: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))
    process: subprocess.Popen[bytes] | None = None
    workers: int = 1

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60) -> Server:
        """Start and wait until /healthz answers."""
        command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)] if self.workers > 1 else []
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.output()[-3000:]}")
            try:
                return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_for(up, what=f"{self.base}/healthz", limit=timeout, every=0.1)
        except AssertionError as exc:
            raise RuntimeError(f"server did not start:\n{self.output()[-3000:]}") from exc
        return self

    def kill(self) -> None:
        """`kill -9` the worker."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Terminate (if still running) and forget the log file."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)

    def output(self) -> str:
        """What the worker logged so far."""
        return self.log.read_text(errors="replace")


def postgres_bin() -> Path | None:
    """The directory of initdb/pg_ctl (Debian: /usr/lib/postgresql/<v>/bin), if installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


class OwnPostgres:
    """A private PostgreSQL cluster in a temporary directory (as user postgres when root)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="fuqing-pg-"))
        self.data = self.directory / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, str(self.bin_dir / args[0]), *args[1:]],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=120,
        )

    def init(self) -> None:
        """initdb (trust, user postgres) and start."""
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres", group="postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        """Start the cluster and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        """Stop the cluster at once (clients are disconnected)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop (if running) and delete the cluster."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
