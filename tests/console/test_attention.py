"""Requests filed after a safety check she answered 安全 (需关注, bot/domain/safety.py): marked
in the console's queue and detail, and a column of the request export."""

from __future__ import annotations

import httpx
from sqlmodel import select

from storage.db import Database
from storage.models import HelpRequest
from tests.console.sessions import file_request, logged_in, make_staff

LABEL = '<span class="badge attention"'


def _mark(database: Database, code: str) -> None:
    """Mark request `code` 需关注, as the help flow files it after a safety check."""
    with database.transaction() as session:
        request = session.exec(select(HelpRequest).where(HelpRequest.code == code)).one()
        request.attention = True


async def test_the_queue_the_detail_and_the_export_show_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A 需关注 request carries the label in the list and on its page, and 是 in the export's
    需关注 column; a plain one carries neither."""
    make_staff(database, "chaoyang")
    marked = file_request(database, "朝阳区", "双井街道", need="他最近老喝酒，喝完就摔东西")
    plain = file_request(database, "朝阳区", "劲松街道", requester="woman-2")
    _mark(database, marked)
    await logged_in(client, "chaoyang")
    queue = (await client.get("/console/requests")).text
    rows = {code: queue.split(code, 2)[-1].split("</td>", 1)[0] for code in (marked, plain)}
    assert LABEL in rows[marked] and "需关注" in rows[marked] and LABEL not in rows[plain]
    assert LABEL in (await client.get(f"/console/requests/{marked}")).text
    assert LABEL not in (await client.get(f"/console/requests/{plain}")).text
    export = (await client.get("/console/export/requests?format=csv")).text
    header, *lines = export.lstrip("\ufeff").splitlines()
    column = header.split(",").index("需关注")
    flags = {line.split(",")[0]: line.split(",")[column] for line in lines}
    assert flags == {marked: "是", plain: "否"}
