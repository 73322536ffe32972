"""绑定: invite codes bind a cadre."""

from __future__ import annotations

from storage import repo
from storage.db import Database


def _invite(database: Database, clock, unit: str = "朝阳区/双井街道", name: str = "李四") -> str:
    with database.transaction() as session:
        found = repo.unit_by_path(session, path=unit)
        assert found is not None
        return repo.create_invite(session, unit=found, name=name, now=clock()).code


def test_bind_with_code_in_one_message(chat, database: Database, clock) -> None:
    """`绑定 <code>` shows the unit; 确认 binds; the code cannot be used twice."""
    code = _invite(database, clock)
    user = chat("new-cadre")
    user.run(
        [(f"绑定 {code}", "朝阳区双井街道 李四"), ("确认", "绑定成功"), ("走访记录", "哪天走访的")]
    )
    other = chat("someone-else")
    assert "已经用过了" in other.say(f"绑定 {code}")


def test_bind_asks_for_the_code(chat, database: Database, clock) -> None:
    """绑定 alone asks for the code; a wrong code gets the reason."""
    code = _invite(database, clock)
    user = chat("new-cadre")
    user.run(
        [
            ("绑定", "请输入邀请码"),
            ("ABCDEFGH", "邀请码不对"),
            (code.lower(), "请核对"),
            ("确认", "绑定成功"),
            ("绑定", "已经是"),
        ]
    )
