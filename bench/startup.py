"""Start-up benchmark: seconds from `fuqing serve` to the first answered request.

    python bench/startup.py [--runs N]

Starts the real server on a fresh SQLite file (the first run migrates and seeds it; later runs
find it ready), polls /healthz on loopback until it answers, then sends one chat message.
Goal from the NLP issue: start-up (jieba included) under 2 s. Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def one_start(data: Path) -> tuple[float, float]:
    """(seconds to /healthz, seconds to the first chat reply) for one server start."""
    port = free_port()
    env = {
        **os.environ,
        "FUQING_DATABASE_URL": f"sqlite:///{data / 'fuqing.db'}",
        "FUQING_DATA_DIR": str(data),
        "FUQING_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
    started = time.perf_counter()
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = None
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    ready = time.perf_counter() - started
                    break
            except httpx.TransportError:
                time.sleep(0.02)
        if ready is None:
            raise RuntimeError("the server did not start within 60 s")
        httpx.post(
            f"{base}/api/v1/messages",
            json={"user": "bench", "text": "我要求助"},
            headers={"Authorization": "Bearer dev-api-token"},
            timeout=10,
        )
        return ready, time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Start the server a few times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, runs + 1):
            ready, replied = one_start(Path(tmp))
            label = "fresh database (migrate + seed)" if run == 1 else "existing database"
            print(
                f"start {run} ({label}): ready in {ready:.2f} s, first reply at {replied:.2f} s "
                f"(goal: ready < 2 s)"
            )


if __name__ == "__main__":
    main()
