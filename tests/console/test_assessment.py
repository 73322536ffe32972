"""The console's 统一考核 page (bot/console/overview/assessment.py) on both databases: units ranked
with their figures, scoped to the staff member's units, and its CSV file."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import httpx

from storage.db import Database
from tests.conftest import Chat
from tests.console.sessions import logged_in, make_staff

FILE = [
    ("我要求助", "困难"),
    ("想找一份离家近的保洁工作", "区"),
    ("{place}", "联系"),
    ("1", "核对"),
]


def _file(woman: Chat, place: str) -> str:
    woman.run([(said.format(place=place), expected) for said, expected in FILE])
    found = re.search(r"编号 ([A-Z0-9]{6})", woman.say("确认"))
    assert found
    return found.group(1)


async def test_units_are_ranked_and_scoped(
    client: httpx.AsyncClient,
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    database: Database,
) -> None:
    """双井街道 resolves its request at once and she is satisfied; 海淀区's waits (filed at 学院路,
    where nobody is bound: 海淀区 answers for it). The city sees 双井 first at 100 %; 朝阳区's
    staff see only their units; the CSV carries the same."""
    officer = cadre("朝阳区/双井街道")
    cadre("海淀区", user="cadre-2", name="李干部")
    woman = chat()
    code = _file(woman, "朝阳区双井街道")
    _file(chat("resident-2"), "海淀区学院路街道")
    officer.run([(f"办结 {code} 已介绍到社区保洁岗位", "已办结")])
    woman.run([("满意", "谢谢您的评价")])
    make_staff(database, "city", "北京市")
    make_staff(database, "chaoyang", "朝阳区")
    await logged_in(client, "city")
    page = await client.get("/console/assessment", params={"quarter": "2026Q1"})
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>(\d+)</td>", page.text)
    assert [(rank, unit) for rank, unit, _n in rows] == [
        ("1", "朝阳区双井街道妇联"),
        ("2", "海淀区妇联"),  # the unit answering for her place, not the place
    ]
    assert "100%" in page.text
    file = await client.get("/console/assessment", params={"quarter": "2026Q1", "format": "csv"})
    table = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["名次", "单位", "求助数"] and table[1][1] == "朝阳区双井街道妇联"
    assert table[1][7] == "100%"  # 满意率
    await client.post("/console/logout", data={"csrf_token": ""})
    client.cookies.clear()
    await logged_in(client, "chaoyang")
    mine = (await client.get("/console/assessment", params={"quarter": "2026Q1"})).text
    assert "朝阳区双井街道妇联" in mine and "海淀" not in mine
    assert (
        await client.get("/console/assessment", params={"quarter": "2026Q9"})
    ).status_code == 404
