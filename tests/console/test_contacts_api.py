"""`/api/v1/contact-points`: contact points through the staff API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.engine import Engine
from storage import repo
from storage.db import Database
from tests.conftest import ADMIN, API, Chat, Clock

URL = "/api/v1/contact-points"
# A visit to 王某 in 九龙社区 on 2026-03-17, reported in chat.
VISIT = [
    ("走访记录", "哪天走访的"),
    ("昨天", "在哪里走访的"),
    ("双井街道九龙社区", "走访形式"),
    ("1", "走访了谁"),
    ("王某 1人", "重点群体"),
    ("无", "情况"),
    ("她想找份兼职，孩子放学后没人看", "求助单"),
    ("否", "请核对"),
    ("确认", "已记入走访日记"),
]


@pytest.fixture(autouse=True)
def _app_clock(engine: Engine, clock: Clock) -> None:
    """The app runs on the test's clock."""


def _user_id(database: Database, user: str) -> int:
    with database.read() as session:
        identity = repo.identity_of(session, channel="api", external_id=user)
        assert identity is not None, user
        return identity.user_id


def _bound(
    cadre: Callable[..., Chat], database: Database, unit: str, user: str, name: str
) -> tuple[Chat, int]:
    talk = cadre(unit, user=user, name=name)
    return talk, _user_id(database, user)


async def _post(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=ADMIN)


async def test_contact_points_need_the_admin_token(client: httpx.AsyncClient) -> None:
    """Without the admin bearer token (the channel token is not enough) the API answers 401."""
    for headers in ({}, API):
        assert (await client.get(URL, headers=headers)).status_code == 401
        answer = await client.post(
            URL, json={"cadre_id": 1, "kind": "community", "name": "九龙社区"}, headers=headers
        )
        assert answer.status_code == 401
        assert (await client.delete(f"{URL}/1", headers=headers)).status_code == 401


async def test_register_every_kind_and_list_them(
    client: httpx.AsyncClient, cadre: Callable[..., Chat], database: Database
) -> None:
    """A district cadre gets a district, a street, a community and a household: 201 each, then
    listed with her name, unit and no visit yet."""
    _talk, cid = _bound(cadre, database, "朝阳区", "cadre-cy", "李主席")
    bodies = [
        {"kind": "district", "name": "朝阳区"},
        {"kind": "street", "name": "双井街道"},
        {"kind": "community", "name": "双井街道九龙社区"},
        {"kind": "household", "name": "王某", "community": "双井街道九龙社区"},
    ]
    made = []
    for body in bodies:
        answer = await _post(client, cadre_id=cid, **body)
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    assert [(m["kind"], m["name"], m["community"]) for m in made] == [
        ("district", "朝阳区", None),
        ("street", "双井街道", None),
        ("community", "九龙社区", None),
        ("household", "王某", "九龙社区"),
    ]
    listed = (await client.get(URL, params={"cadre": "李主席"}, headers=ADMIN)).json()
    assert listed == made
    assert listed[0] == {
        "id": made[0]["id"],
        "cadre_id": cid,
        "cadre": "李主席",
        "unit": "北京市/朝阳区",
        "kind": "district",
        "name": "朝阳区",
        "community": None,
        "last_visit": None,
    }


async def test_chat_and_api_share_the_points(
    client: httpx.AsyncClient, cadre: Callable[..., Chat], database: Database
) -> None:
    """A point registered in chat is listed by the API with its last visit; one registered
    through the API shows in `我的联系点`; registering it again answers 200, not a copy."""
    talk, cid = _bound(cadre, database, "朝阳区/双井街道", "cadre-sj", "张干部")
    talk.run([("联系点 九龙社区", "（1/4）")])
    talk.run(VISIT)
    added = await _post(client, cadre_id=cid, kind="household", name="王某", community="九龙社区")
    assert added.status_code == 201, added.text
    again = await _post(client, cadre_id=cid, kind="household", name="王某", community="九龙社区")
    assert again.status_code == 200 and again.json() == added.json()
    listed = (await client.get(URL, params={"cadre": "张干部"}, headers=ADMIN)).json()
    assert [(p["name"], p["unit"], p["last_visit"]) for p in listed] == [
        ("九龙社区", "北京市/朝阳区/双井街道", "2026-03-17"),
        ("王某", "北京市/朝阳区/双井街道", "2026-03-17"),
    ]
    assert "· 王某（九龙社区）（结对户）｜最近走访：2026-03-17" in talk.say("我的联系点")


async def test_list_filters_by_cadre_name(
    client: httpx.AsyncClient, cadre: Callable[..., Chat], database: Database
) -> None:
    """Without `cadre` every holder's points are listed; with it only hers; none for a stranger."""
    _a, first = _bound(cadre, database, "朝阳区/双井街道", "cadre-1", "张干部")
    _b, second = _bound(cadre, database, "海淀区", "cadre-2", "王干部")
    assert (
        await _post(client, cadre_id=first, kind="community", name="九龙社区")
    ).status_code == 201
    assert (await _post(client, cadre_id=second, kind="district", name="海淀区")).status_code == 201
    everyone = (await client.get(URL, headers=ADMIN)).json()
    assert [(p["cadre"], p["name"]) for p in everyone] == [
        ("张干部", "九龙社区"),
        ("王干部", "海淀区"),
    ]
    hers = (await client.get(URL, params={"cadre": "王干部"}, headers=ADMIN)).json()
    assert [(p["cadre_id"], p["name"]) for p in hers] == [(second, "海淀区")]
    assert (await client.get(URL, params={"cadre": "无名"}, headers=ADMIN)).json() == []


async def test_over_quota_is_409_naming_the_quota(
    client: httpx.AsyncClient, cadre: Callable[..., Chat], database: Database
) -> None:
    """Three communities in chat and one through the API fill the quota of 4: the fifth is 409."""
    talk, cid = _bound(cadre, database, "朝阳区/双井街道", "cadre-sj", "张干部")
    talk.run([(f"联系点 {c}", "已登记") for c in ("九龙社区", "垂杨柳社区", "光明社区")])
    assert (
        await _post(client, cadre_id=cid, kind="community", name="黄木厂社区")
    ).status_code == 201
    refused = await _post(client, cadre_id=cid, kind="community", name="双花园社区")
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "over_quota"
    assert "quota of community contact points is 4" in body["message"]
    assert body["details"] == {"kind": "community", "quota": 4, "count": 4}
    talk.run([("我的联系点", "社区/村 4/4")])


async def test_jurisdiction_and_places_are_checked_as_in_chat(
    client: httpx.AsyncClient, cadre: Callable[..., Chat], database: Database
) -> None:
    """A street cadre cannot hold another street or her district; unknown places, places of
    another kind and unfit pseudonyms are 422, a pseudonym reused elsewhere 409."""
    _talk, cid = _bound(cadre, database, "朝阳区/双井街道", "cadre-sj", "张干部")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"kind": "street", "name": "劲松街道"}, 422, "outside_jurisdiction"),
        ({"kind": "district", "name": "朝阳区"}, 422, "outside_jurisdiction"),
        ({"kind": "district", "name": "海淀区"}, 422, "outside_jurisdiction"),
        ({"kind": "community", "name": "月球"}, 422, "unknown_place"),
        ({"kind": "street", "name": "九龙社区"}, 422, "wrong_kind"),
        ({"kind": "household", "name": "王某"}, 422, "community_required"),
        ({"kind": "household", "name": "王某", "community": "双井街道"}, 422, "community_required"),
        (
            {"kind": "household", "name": "13800138000", "community": "九龙社区"},
            422,
            "invalid_pseudonym",
        ),
        ({"kind": "household", "name": "王 某", "community": "九龙社区"}, 422, "invalid_pseudonym"),
        (
            {"kind": "community", "name": "九龙社区", "community": "九龙社区"},
            422,
            "community_not_allowed",
        ),
        ({"kind": "household", "name": "王某", "community": "九龙社区"}, 201, ""),
        ({"kind": "household", "name": "王某", "community": "光明社区"}, 409, "pseudonym_taken"),
    ]
    for body, status, code in cases:
        answer = await _post(client, cadre_id=cid, **body)
        assert answer.status_code == status, (body, answer.text)
        if code:
            assert answer.json()["error"] == code, (body, answer.text)
    listed = (await client.get(URL, headers=ADMIN)).json()
    assert [(p["kind"], p["name"]) for p in listed] == [("household", "王某")]


async def test_only_bound_cadres_hold_points(
    client: httpx.AsyncClient, chat: Callable[..., Chat], database: Database
) -> None:
    """A resident, or a user id that does not exist, is 422 `not_a_cadre`; a bad kind is 422."""
    chat("resident-1").say("你好")
    resident = _user_id(database, "resident-1")
    for cid in (resident, 999_999):
        answer = await _post(client, cadre_id=cid, kind="community", name="九龙社区")
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "not_a_cadre"
    wrong = await _post(client, cadre_id=resident, kind="village", name="九龙社区")
    assert (wrong.status_code, wrong.json()["error"]) == (422, "invalid_request")


async def test_delete_frees_the_quota(
    client: httpx.AsyncClient, cadre: Callable[..., Chat], database: Database
) -> None:
    """DELETE answers 204 and the point is gone (from the list and the chat); again it is 404."""
    talk, cid = _bound(cadre, database, "朝阳区", "cadre-cy", "李主席")
    first = (await _post(client, cadre_id=cid, kind="district", name="朝阳区")).json()
    assert (await _post(client, cadre_id=cid, kind="district", name="朝阳区")).status_code == 200
    gone = await client.delete(f"{URL}/{first['id']}", headers=ADMIN)
    assert (gone.status_code, gone.content) == (204, b"")
    assert (await client.get(URL, headers=ADMIN)).json() == []
    talk.run([("我的联系点", "还没有登记联系点")])
    missing = await client.delete(f"{URL}/{first['id']}", headers=ADMIN)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    huge = await client.delete(f"{URL}/{10**20}", headers=ADMIN)  # no row could have this id
    assert huge.status_code in (400, 404) and "error" in huge.json()
    talk.run([("联系点 朝阳区", "（1/1）")])
