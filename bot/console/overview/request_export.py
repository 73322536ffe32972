"""The help requests in scope as a CSV or XLSX file (the queue's filters), phones masked."""

from __future__ import annotations

import asyncio
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from bot import texts
from bot.console.auth import local_wall_time
from bot.console.overview.listing import (
    EXPORT_LIMIT,
    ListFormat,
    code_label,
    column_name,
    list_file,
    local_today,
    local_zone,
)
from bot.console.overview.scope import StaffDep, scope_of
from bot.http import services
from bot.nlp import mask_pii
from storage import repo
from storage.models import REQUEST_STATUSES, HelpRequest, User

router = APIRouter(prefix="/console", include_in_schema=False)


# The columns of `request_record`, in its order: the export's header even when nothing matched.
REQUEST_COLUMNS = (
    "code",
    "status",
    "primary",
    "categories",
    "crisis",
    "attention",
    "district",
    "street",
    "community",
    "need",
    "contact",
    "phone",
    "assignee",
    "created",
    "resolved",
)


def request_record(request: HelpRequest, assignee: User | None, tz: ZoneInfo) -> dict[str, object]:
    """A help request as a list row (the phone and the need's phone/ID numbers masked)."""
    return {
        column_name("code"): request.code,
        column_name("status"): code_label("status", request.status),
        column_name("primary"): texts.CATEGORY_LABELS.get(request.primary, request.primary),
        column_name("categories"): texts.category_labels(request.categories),
        column_name("crisis"): texts.t("console.yes" if request.crisis else "console.no"),
        column_name("attention"): texts.t("console.yes" if request.attention else "console.no"),
        column_name("district"): request.district or "",
        column_name("street"): request.street or "",
        column_name("community"): request.community or "",
        column_name("need"): mask_pii(request.need),
        column_name("contact"): code_label("console.contact", request.contact),
        column_name("phone"): mask_pii(request.phone) if request.phone else "",
        column_name("assignee"): (assignee.name or "") if assignee is not None else "",
        column_name("created"): local_wall_time(request.created_at, tz),
        column_name("resolved"): local_wall_time(request.resolved_at, tz),
    }


@router.get("/export/requests")
async def export_requests(
    request: Request,
    staff: StaffDep,
    fmt: Annotated[ListFormat, Query(alias="format")] = "csv",
    status: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The help requests in scope (the queue's filters: status, category, district) as CSV or
    XLSX, newest first, phones masked."""
    svc = services(request)
    tz = local_zone(svc)

    def build() -> Response:
        with svc.db.read() as session:
            rows = repo.list_help_requests(
                session,
                status=status if status in REQUEST_STATUSES else None,
                category=category if category in texts.CATEGORY_LABELS else None,
                district=district or None,
                unit_ids=scope_of(staff),
                limit=EXPORT_LIMIT,
            )
            records = [request_record(r, who, tz) for r, who in rows]
        return list_file(
            records,
            [column_name(k) for k in REQUEST_COLUMNS],
            fmt,
            f"requests-{local_today(svc).isoformat()}",
        )

    return await asyncio.to_thread(build)
