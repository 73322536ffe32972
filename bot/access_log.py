"""What uvicorn's access log may say about a request's URL.

uvicorn logs every request at INFO on `uvicorn.access` with its path and query string. Two
things must never reach that line:

* the query strings of the platform callbacks (`/wechat`, `/wecom`, `/telegram`): their
  `signature`, `timestamp`, `nonce`, `msg_signature` and `echostr` are a delivery's credentials
  (with a plaintext-mode signature one log line was enough to post as anyone within its
  window), so the line shows the path only, with `?***` for a dropped query;
* phone and ID numbers in any other query string or path (a console `next=` after login,
  a search): `PiiMaskingFilter` masks plain digits, but in a URL they are often
  percent-encoded next to other escapes (`%3D13812345678`), which it cannot see; here the
  URL is decoded, masked and, when anything was masked, logged re-encoded.

`AccessLogFilter` is a filter on the `uvicorn.access` logger itself (installed by the CLI's
logging set-up), so it applies whichever handler and formatter print the record.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote

from bot.nlp import mask_pii

ACCESS_LOGGER = "uvicorn.access"
SECRET_QUERY_PATHS = ("/wechat", "/wecom", "/telegram")
_KEEP = "/?=&:;,+@!$'()*~"  # what `clean_url` leaves unescaped in a masked URL
_PATH_ARG = 2  # uvicorn's access record: (client, method, path?query, http version, status)


def clean_url(url: str) -> str:
    """The path and query of `url` as the access log may show them: a callback's query
    dropped (`?***`), phone and ID numbers masked in the rest, even percent-encoded."""
    path, mark, query = url.partition("?")
    if path.startswith(SECRET_QUERY_PATHS):
        return f"{path}?***" if mark else path
    return _masked(path) + (f"?{_masked(query)}" if mark else "")


def _masked(part: str) -> str:
    """`part` unchanged when it carries no personal number; else decoded, masked, re-encoded."""
    decoded = unquote(part.replace("+", " "))
    masked = mask_pii(decoded)
    if masked == decoded:
        return part
    return quote(masked, safe=_KEEP)


class AccessLogFilter(logging.Filter):
    """Rewrites the URL of uvicorn's access records with `clean_url`; keeps every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean the record's path-and-query argument; keep the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG:
            url = args[_PATH_ARG]
            if isinstance(url, str):
                record.args = (*args[:_PATH_ARG], clean_url(url), *args[_PATH_ARG + 1 :])
        return True


def install_access_log_filter() -> None:
    """Put one `AccessLogFilter` on uvicorn's access logger (replacing an earlier one)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    for old in [f for f in logger.filters if isinstance(f, AccessLogFilter)]:
        logger.removeFilter(old)
    logger.addFilter(AccessLogFilter())
