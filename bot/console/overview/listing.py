"""What the overview pages' lists share: the local date, parsing filters from forms and
queries, column and status labels, the pager, and CSV/XLSX downloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Response

from bot import texts
from bot.console.reports_api import attachment
from bot.http import Services
from bot.reporting.export import MEDIA_TYPES, to_csv, to_xlsx

PAGE_SIZE = 50  # pages read it as `listing.PAGE_SIZE`: one setting pages every list
EXPORT_LIMIT = 20_000
ListFormat = Literal["csv", "xlsx"]


def local_zone(svc: Services) -> ZoneInfo:
    """The federation's time zone (FUQING_TIMEZONE)."""
    return ZoneInfo(svc.settings.timezone)


def local_today(svc: Services) -> date:
    """Today in the federation's time zone, by the engine's clock."""
    return svc.engine.clock().astimezone(local_zone(svc)).date()


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date from a form or a query, None when empty or not a date."""
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def parse_id(text: str | None) -> int | None:
    """A positive id from a form or a query, None otherwise."""
    digits = text.strip() if text else ""
    return int(digits) if digits.isascii() and digits.isdigit() else None  # not "²" or "٣"


def code_label(prefix: str, code: str) -> str:
    """The Chinese label of `code` under `prefix`, else the code itself."""
    return texts.t(f"{prefix}.{code}") if texts.has(f"{prefix}.{code}") else code


def column_name(key: str) -> str:
    """A list column's Chinese name."""
    return texts.t("console.col." + key)


def given(params: Mapping[str, str | None]) -> dict[str, str]:
    """The parameters that have a value."""
    return {k: v for k, v in params.items() if v}


def pager(
    path: str, params: Mapping[str, str | None], page: int, total: int, *, size: int | None = None
) -> dict[str, Any]:
    """A list's pager (`_pager.html`): the page, the page count, the total and the
    previous/next URLs, which keep the list's filters."""
    pages = max(1, -(-total // (size or PAGE_SIZE)))
    kept = given(params)

    def url(n: int) -> str:
        return f"{path}?{urlencode({**kept, 'page': n})}"

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < pages else None,
    }


def download(content: bytes, fmt: str, name: str) -> Response:
    """A file download named `name` (Chinese names kept through RFC 5987)."""
    return Response(
        content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": attachment(name)}
    )


def list_file(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str], fmt: str, stem: str
) -> Response:
    """A list as a CSV (UTF-8 with a BOM) or XLSX download named `<stem>.<fmt>`; `columns` head
    it even when nothing matched."""
    content = to_csv(rows, columns) if fmt == "csv" else to_xlsx(rows, columns, sheet_name=stem)
    return download(content, fmt, f"{stem}.{fmt}")
