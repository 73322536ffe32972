"""查询进度, 受理 and 办结: the requester is told when her request moves."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent


def _file(woman) -> str:
    woman.run(
        [
            ("我要求助", "困难"),
            ("想找一份离家近的保洁工作", "区"),
            ("朝阳区双井街道", "联系"),
            ("1", "核对"),
        ]
    )
    answer = woman.say("确认")
    code = re.search(r"编号 ([A-Z0-9]{6})", answer)
    assert code, answer
    return code.group(1)


def test_take_and_resolve_tell_the_requester(chat, cadre, database: Database) -> None:
    """The unit's cadre is notified, takes and resolves; the woman is told both times."""
    officer = cadre()
    woman = chat()
    code = _file(woman)
    assert any(code in p for p in officer.pushed())
    officer.run([("查询进度", code), (f"受理 {code}", "已受理")])
    assert any("已由" in p and code in p for p in woman.pushed())
    officer.run([(f"办结 {code}", "办结说明"), (f"办结 {code} 已介绍到社区保洁岗位", "已办结")])
    assert any("已办结" in p and "保洁岗位" in p for p in woman.pushed())
    woman.run([("查询进度", "已办结")])
    with database.read() as session:
        request = session.exec(select(HelpRequest)).one()
        kinds = [
            e.kind for e in session.exec(select(HelpRequestEvent).order_by(HelpRequestEvent.id))
        ]
    assert request.status == "resolved" and kinds == ["created", "assigned", "resolved"]


def test_resident_cannot_take_requests(chat) -> None:
    """受理 is for cadres."""
    woman = chat()
    code = _file(woman)
    assert "只有妇联干部" in woman.say(f"受理 {code}")


def test_other_units_cadre_cannot_touch(chat, cadre) -> None:
    """A 海淀区 cadre cannot take a 朝阳区 request."""
    woman = chat()
    code = _file(woman)
    other = cadre("海淀区", user="cadre-hd")
    assert "没找到编号" in other.say(f"受理 {code}")
    woman.run([("查询进度", "待受理")])


@pytest.mark.parametrize("asker", ["cadre", "resident"])
def test_someone_elses_code_is_answered_as_a_code_that_does_not_exist(chat, cadre, asker) -> None:
    """受理, 办结, 详情 and 撤销 of another unit's (or another woman's) request get exactly the
    answer a code that does not exist gets: nothing tells her that it exists."""
    code = _file(chat())
    other = cadre("海淀区", user="cadre-hd") if asker == "cadre" else chat("resident-2")
    missing = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    other.say("你好")  # a newcomer's first answer starts with the greeting
    for command in ("受理 {}", "办结 {} 已解决", "详情 {}", "撤销 {}"):
        existing = other.say(command.format(code)).replace(code, "<code>")
        absent = other.say(command.format(missing)).replace(missing, "<code>")
        assert existing == absent, command
        assert "没找到编号 <code>" in existing


def test_resident_withdraws_her_request(chat) -> None:
    """撤销 <编号> cancels her own open request."""
    woman = chat()
    code = _file(woman)
    woman.run([(f"撤销 {code}", "已撤销"), ("查询进度", "已撤销")])


def test_unknown_code(cadre) -> None:
    """An unknown code is named in the reply."""
    assert "没找到编号 ZZZZZZ" in cadre().say("受理 ZZZZZZ")


def test_routing_to_parent_when_no_cadre(chat, cadre, database: Database) -> None:
    """With no cadre at the street, the district's cadre gets the request."""
    officer = cadre("朝阳区", user="cadre-cy")
    woman = chat()
    code = _file(woman)
    assert any(code in p for p in officer.pushed())


def test_resolution_notes_are_stored_with_phone_and_id_numbers_masked(
    chat, cadre, database: Database
) -> None:
    """办结 <code> 已联系13800138000: the resolution and its event keep the numbers masked; the
    push to her tells the note as the cadre typed it."""
    officer = cadre()
    woman = chat()
    code = _file(woman)
    officer.run([(f"办结 {code} 已联系13800138000，身份证110105199003071234", "已办结")])
    assert any("已联系13800138000" in p for p in woman.pushed())
    masked = "已联系138****8000，身份证110105********1234"
    with database.read() as session:
        request = session.exec(select(HelpRequest)).one()
        notes = [e.note for e in session.exec(select(HelpRequestEvent)) if e.note]
    assert request.resolution == masked and notes == [masked]
