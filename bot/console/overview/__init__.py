"""The console's overview pages: dashboard, visit diary, quarterly summaries, org and invites,
outbox; and the CSV/XLSX exports of the request and visit lists. `router` gathers them all.

Every page is scoped: city staff see every unit, a district's staff their district only. The
scope goes into each query (`storage.repo.console`); a detail page of a unit out of scope is a
404. Writes (review, due date, invite, retry) are POSTs checked for the CSRF token that answer
with a redirect and a notice. The review and the due-date override run the staff API's own
functions (`bot.console.reports_api`); the quarterly files are the API's files.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.console.overview import (
    assessment,
    contacts,
    dashboard,
    org,
    outbox,
    quarters,
    request_export,
    visits,
)

router = APIRouter()
for page in (dashboard, visits, request_export, quarters, assessment, contacts, org, outbox):
    router.include_router(page.router)
