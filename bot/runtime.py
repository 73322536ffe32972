"""What `fuqing serve` asks of the interpreter and of uvicorn.

- The interpreter: CPython before 3.11.10 / 3.12.6 parses quoted cookie values in quadratic
  time (CVE-2024-7592). `interpreter_warning` says so at start-up, unless the running
  `http.cookies` already has the fixed parser (distributions such as Debian backport the fix
  without changing the version number). The image pins a patched release (`Dockerfile`).
- uvicorn: the h11 protocol with a cap on a request's head (`FUQING_MAX_HEADER_BYTES`), so an
  oversized head is refused while it is read instead of being buffered whole (httptools, the
  other choice, has no such cap: it accepted a 10 MB header); uvicorn's forwarded-headers
  handling off, because the app applies `FUQING_FORWARDED_ALLOW_IPS` itself (`bot/edge.py`).
"""

from __future__ import annotations

import http.cookies
import sys
from typing import Any

from bot.config import Settings

# The first release of each supported line with CVE-2024-7592 fixed; 3.13.0 shipped with it.
COOKIE_FIX = {(3, 11): (3, 11, 10), (3, 12): (3, 12, 6)}
FIXED_LINE = (3, 13)
MINIMUM_PATCHED = "3.11.10 or 3.12.6"


def interpreter_warning(
    version: tuple[int, ...] = tuple(sys.version_info[:3]), cookies: object = http.cookies
) -> str | None:
    """A warning when this interpreter has the quadratic cookie parser of CVE-2024-7592, else
    None (`cookies` is the running `http.cookies`; its old parser has `_QuotePatt`)."""
    fixed = COOKIE_FIX.get((version[0], version[1]), FIXED_LINE)
    if tuple(version) >= fixed or not hasattr(cookies, "_QuotePatt"):
        return None
    running = ".".join(str(part) for part in version)
    return (
        f"Python {running} parses cookies in quadratic time (CVE-2024-7592): run {MINIMUM_PATCHED} "
        "or newer; until then FUQING_MAX_COOKIE_BYTES bounds the cost (docs/operations.md)"
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn keyword arguments `fuqing serve` adds to host, port and workers."""
    return {
        "http": "h11",
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "proxy_headers": False,  # the app trusts FUQING_FORWARDED_ALLOW_IPS only (bot/edge.py)
        "server_header": False,
        "log_config": None,
        # Open event streams of the web chat must not hold a shutdown for long.
        "timeout_graceful_shutdown": 3,
    }
