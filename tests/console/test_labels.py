"""Correcting a request's labels in the console (`bot/console/labels.py`): the JSON route and the
request page's form, their refusals and scope, and the model's figure over the corrections."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot import texts
from bot.nlp import NLP
from storage import repo
from storage.db import Database
from storage.models import LabelCorrection
from tests.console.sessions import T0, file_request, logged_in, make_staff

JOBS = "想找一份离家近的保洁工作"
LAWYER = "前夫不给抚养费，想找律师问问怎么起诉"


@pytest.fixture
def codes(database: Database) -> dict[str, str]:
    """A jobs request in 朝阳区, one in 海淀区; staff of both districts and of the city."""
    found = {
        "cy": file_request(database, "朝阳区", "双井街道", need=JOBS),
        "hd": file_request(database, "海淀区", requester="woman-2", need=LAWYER),
    }
    for name, unit in (("chaoyang", "朝阳区"), ("haidian", "海淀区"), ("city", "北京市")):
        make_staff(database, name, unit)
    return found


async def post_labels(
    client: httpx.AsyncClient, token: str, code: str, body: Any
) -> httpx.Response:
    """POST the JSON correction with the session's CSRF token."""
    return await client.post(
        f"/console/api/requests/{code}/labels", json=body, headers={"X-CSRF-Token": token}
    )


def stored(database: Database) -> list[tuple[str, list[str], bool, list[str], bool]]:
    """Every stored example: (text, filed categories, filed crisis, staff's, staff's crisis)."""
    with database.read() as session:
        rows = session.exec(select(LabelCorrection).order_by(col(LabelCorrection.id))).all()
        return [
            (r.text, r.model_categories, r.model_crisis, r.staff_categories, r.staff_crisis)
            for r in rows
        ]


@pytest.mark.parametrize(
    ("body", "primary", "categories", "crisis"),
    [
        ({"categories": ["knowledge", "jobs"]}, "knowledge", ["knowledge", "jobs"], False),
        ({"crisis": True}, "jobs", ["jobs"], True),
        ({"categories": ["rights"], "crisis": True}, "rights", ["rights"], True),
    ],
)
async def test_a_correction_changes_the_request_and_stores_the_example(
    client: httpx.AsyncClient,
    database: Database,
    codes: dict[str, str],
    body: dict[str, Any],
    primary: str,
    categories: list[str],
    crisis: bool,
) -> None:
    """The answer and the request carry staff's labels; one example holds her words, the filed
    reading and staff's; the request's history shows the correction."""
    token = await logged_in(client, "chaoyang")
    answer = await post_labels(client, token, codes["cy"].lower(), body)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["code"], got["primary"], got["categories"], got["crisis"]) == (
        codes["cy"],
        primary,
        categories,
        crisis,
    )
    with database.read() as session:
        request = repo.request_by_code(session, code=codes["cy"])
        assert request is not None
        assert (request.primary, request.categories, request.crisis) == (
            primary,
            categories,
            crisis,
        )
    assert stored(database) == [(JOBS, ["jobs"], False, categories, crisis)]
    page = (await client.get(f"/console/requests/{codes['cy']}")).text
    assert "更正类别" in page and "控制台：chaoyang" in page and "类别：岗位 → " in page


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"categories": ["jobs", "money"]}, 422, "unknown_category"),
        ({"categories": []}, 422, "no_category"),
        ({"categories": ["other", "jobs"]}, 422, "other_alone"),
        ({"categories": ["jobs"]}, 422, "unchanged"),
        ({"crisis": False}, 422, "unchanged"),
        ({}, 422, "unchanged"),
        ({"categories": "jobs"}, 422, "invalid_request"),
        ({"categories": ["jobs"] * 7}, 422, "invalid_request"),
        ({"crisis": "maybe"}, 422, "invalid_request"),
    ],
)
async def test_bad_corrections_get_clear_answers(
    client: httpx.AsyncClient,
    database: Database,
    codes: dict[str, str],
    body: dict[str, Any],
    status: int,
    error: str,
) -> None:
    """Unknown, missing or conflicting categories, nothing changed, a malformed body: a 4xx
    naming the problem; nothing stored."""
    token = await logged_in(client, "chaoyang")
    answer = await post_labels(client, token, codes["cy"], body)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert answer.json()["message"]
    assert stored(database) == []


@pytest.mark.parametrize(
    ("staff", "district", "status"),
    [
        ("chaoyang", "cy", 200),
        ("chaoyang", "hd", 404),
        ("haidian", "cy", 404),
        ("haidian", "hd", 200),
        ("city", "hd", 200),
    ],
)
async def test_staff_correct_only_their_units_requests(
    client: httpx.AsyncClient,
    database: Database,
    codes: dict[str, str],
    staff: str,
    district: str,
    status: int,
) -> None:
    """A district's staff correct their district's requests; another's is not found."""
    token = await logged_in(client, staff)
    answer = await post_labels(client, token, codes[district], {"categories": ["health"]})
    assert answer.status_code == status
    assert len(stored(database)) == (status == 200)


async def test_csrf_token_and_login_are_required(
    client: httpx.AsyncClient, database: Database, codes: dict[str, str]
) -> None:
    """Without the session's token: 403; without a session: to the login page."""
    url = f"/console/api/requests/{codes['cy']}/labels"
    assert (await client.post(url, json={"crisis": True})).status_code in (303, 403)
    await logged_in(client, "chaoyang")
    refused = await client.post(url, json={"crisis": True}, headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403
    assert stored(database) == []


async def test_the_request_page_form(
    client: httpx.AsyncClient, database: Database, codes: dict[str, str]
) -> None:
    """The page's form: 主要类别 first, the others ticked, 紧急; a refusal is flashed."""
    token = await logged_in(client, "chaoyang")
    url = f"/console/requests/{codes['cy']}"
    page = (await client.get(url)).text
    assert f'action="{url}/labels"' in page and 'name="crisis"' in page
    form = {"csrf_token": token, "primary": "rights", "categories": ["jobs", "rights"]}
    done = await client.post(f"{url}/labels", data={**form, "crisis": "1"})
    assert (done.status_code, done.headers["location"]) == (303, url)
    assert "已更正" in (await client.get(url)).text
    assert stored(database) == [(JOBS, ["jobs"], False, ["rights", "jobs"], True)]
    bad = {"csrf_token": token, "primary": "other", "categories": ["jobs"]}
    refused = await client.post(f"{url}/labels", data=bad)
    assert refused.status_code == 303
    assert "“其他”不能和别的类别同时选" in (await client.get(url)).text
    assert len(stored(database)) == 1
    gone = await client.post(f"/console/requests/{codes['hd']}/labels", data=form)
    assert gone.headers["location"] == "/console/requests"


async def test_the_figure_over_the_corrections(
    client: httpx.AsyncClient, database: Database, codes: dict[str, str], nlp: NLP
) -> None:
    """Filed readings against staff's (here 1 of 2 primaries, 1 of 2 crisis flags right), and
    the loaded model's reading now; the page and the dashboard show them."""
    assert (await client.get("/console/nlp")).status_code == 303  # to the login: staff only
    token = await logged_in(client, "city")
    assert "还没有人工更正" in (await client.get("/console/nlp")).text
    await post_labels(client, token, codes["cy"], {"crisis": True})
    await post_labels(client, token, codes["hd"], {"categories": ["rights"]})
    figures = (await client.get("/console/api/nlp/corrections")).json()
    assert figures["filed"] == {"n": 2, "primary": 0.5, "crisis": 0.5}
    truth = {JOBS: ("jobs", True), LAWYER: ("rights", False)}
    readings = [nlp.analyze(text, T0.date()) for text in truth]
    assert figures["now"]["n"] == 2
    assert figures["now"]["primary"] == sum(a.primary == truth[a.text][0] for a in readings) / 2
    assert figures["now"]["crisis"] == sum(a.crisis == truth[a.text][1] for a in readings) / 2
    page = (await client.get("/console/nlp")).text
    assert "50%" in page and "现在的模型" in page
    dashboard = (await client.get("/console")).text
    assert re.search(r'<span class="n">2</span>自动识别的人工更正', dashboard)


async def test_an_erased_request_is_refused(
    client: httpx.AsyncClient, database: Database, codes: dict[str, str]
) -> None:
    """Once her words are erased: 409 `erased`, and the page offers no correction."""
    with database.transaction() as session:
        request = repo.request_by_code(session, code=codes["cy"])
        assert request is not None
        request.need, request.requester_id = texts.t("delete.placeholder"), None
        session.add(request)
    token = await logged_in(client, "chaoyang")
    answer = await post_labels(client, token, codes["cy"], {"categories": ["health"]})
    assert (answer.status_code, answer.json()["error"]) == (409, "erased")
    page = (await client.get(f"/console/requests/{codes['cy']}")).text
    assert "/labels" not in page
    assert stored(database) == []
