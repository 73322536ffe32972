"""Memory benchmark: the server's resident memory after 10,000 messages, and its growth over a
soak that follows.

    python bench/soak.py            # --quick (default): 10,000 messages, then a 10,000 soak
    python bench/soak.py --full     # 10,000 messages, then the 50,000-message soak

Starts `fuqing serve` on a throw-away SQLite file (WeChat in safe mode, rate limits off), plays
residents through the help flow on 16 keep-alive connections (`bench/load.py`'s client, the JSON
API and `/wechat` alternately) and reads the server process's VmRSS from /proc. Goals: under
300 MB after 10,000 messages; the soak grows it by under 10 %. Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (
    HELP_REQUEST,
    Connection,
    api_sender,
    free_port,
    running,
    serve_command,
    server_env,
    wechat_sender,
)

GOAL_RSS_MB, GOAL_GROWTH = 300.0, 0.10
CONNECTIONS = 16


def rss_mb(pid: int) -> float:
    """The resident memory of process `pid` in MB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def play(port: int, messages: int) -> tuple[int, int]:
    """Send `messages` messages (whole help flows, API and WeChat); return (ok, errors)."""
    senders = (api_sender(), wechat_sender())
    run = uuid.uuid4().hex[:6]
    users = itertools.count()
    budget = iter(range(messages))
    ok = errors = 0

    async def loop(lane: int) -> None:
        nonlocal ok, errors
        connection = Connection(port)
        send = senders[lane % 2]
        while True:
            user = f"s{run}-{next(users)}"
            for step, text in enumerate(HELP_REQUEST):
                if next(budget, None) is None:
                    connection.close()
                    return
                try:
                    good = await send(connection, user, text, step)
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    good = False
                ok += good
                errors += not good

    await asyncio.gather(*(loop(lane) for lane in range(CONNECTIONS)))
    return ok, errors


def phase(label: str, port: int, pid: int, messages: int) -> float:
    """Play one phase; print its figures; return the RSS after it."""
    started = time.perf_counter()
    ok, errors = asyncio.run(play(port, messages))
    seconds = time.perf_counter() - started
    rss = rss_mb(pid)
    print(
        f"{label}: {messages} messages in {seconds:.0f} s ({ok / seconds:.0f} msgs/s, "
        f"{errors} errors); server RSS {rss:.1f} MB",
        flush=True,
    )
    return rss


def main() -> None:
    """Parse the arguments, start the server, measure."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10,000 + a 10,000 soak (default)")
    size.add_argument("--full", action="store_true", help="10,000 + the 50,000 soak")
    args = parser.parse_args()
    soak = 50_000 if args.full else 10_000
    with tempfile.TemporaryDirectory(prefix="fuqing-soak-") as tmp:
        data = Path(tmp)
        port = free_port()
        env = server_env(f"sqlite:///{data / 'soak.db'}", data)
        with running(serve_command(port, 1), env, port) as server:
            start = rss_mb(server.pid)
            print(f"server RSS at start: {start:.1f} MB", flush=True)
            after_10k = phase("first 10,000", port, server.pid, 10_000)
            after_soak = phase(f"soak of {soak:,}", port, server.pid, soak)
    growth = (after_soak - after_10k) / after_10k
    verdict = "met" if after_10k < GOAL_RSS_MB and growth < GOAL_GROWTH else "NOT met"
    print(
        f"RSS after 10,000: {after_10k:.1f} MB (goal < {GOAL_RSS_MB:.0f} MB); "
        f"growth over the soak: {growth:+.1%} (goal < {GOAL_GROWTH:.0%}): {verdict}"
    )


if __name__ == "__main__":
    main()
