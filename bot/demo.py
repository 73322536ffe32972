"""`fuqing demo`: demo units' cadre, an invite code, sample requests and visits (idempotent);
and what of it production refuses to start with (`demo_leftovers`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.domain import routing
from storage import repo
from storage.models import Invite, StaffAccount, User

DEMO_UNIT = "朝阳区/双井街道"
DEMO_CADRE_NAME = "演示干部"
DEMO_INVITE = "DEMO2026"
TERMINAL_CADRE = "demo-cadre"

SAMPLE_REQUESTS = (
    (
        "我是单亲妈妈，孩子上小学，想找个能按时接孩子的兼职",
        ["jobs"],
        "朝阳区",
        "双井街道",
        "九龙社区",
    ),
    (
        "婆婆瘫痪在床，家里就我一个人挣钱，能申请救助吗",
        ["relief", "health"],
        "朝阳区",
        "劲松街道",
        None,
    ),
    (
        "想学电商直播卖自家做的手工布鞋，有培训吗",
        ["knowledge", "jobs"],
        "海淀区",
        "中关村街道",
        None,
    ),
)
SAMPLE_VISITS = (
    (
        1,
        "朝阳区",
        "双井街道",
        "九龙社区",
        "一对一访谈",
        "刘某",
        1,
        ["创业就业"],
        "被裁员后一直没找到工作，想先学点新技能再找",
        ["jobs", "knowledge"],
    ),
    (
        3,
        "朝阳区",
        "双井街道",
        "富力社区",
        "座谈交流",
        "宝妈们",
        12,
        ["创业就业"],
        "孩子放学后没人看，大家想找附近的兼职",
        ["jobs"],
    ),
)


# Console accounts of the demo (development only): city staff, and a district's staff.
DEMO_STAFF = (("city", ""), ("chaoyang", "朝阳区"))
DEMO_PASSWORD = "fuqing-demo"


@dataclass
class DemoResult:
    """What the demo seed created or found."""

    invite_code: str
    cadre_unit: str
    created_samples: bool
    staff: tuple[str, ...] = ()


def seed_demo(session: Session, *, now: datetime, staff: bool = True) -> DemoResult:
    """Create the demo cadre (terminal), an unused invite, samples, and (with `staff`, which
    the CLI allows in development only) the demo console accounts, once."""
    unit = repo.unit_by_path(session, path=DEMO_UNIT)
    if unit is None:
        raise LookupError(f"{DEMO_UNIT} is not in the org tree: run `fuqing db upgrade` first")
    cadre = demo_cadre(session, now=now)
    invite = repo.find_invite(session, code=DEMO_INVITE)
    if invite is None:
        invite = repo.create_invite(session, unit=unit, name="新干部", now=now)
        invite.code = DEMO_INVITE
        session.add(invite)
    elif invite.used_at is not None:
        invite = repo.create_invite(session, unit=unit, name="新干部", now=now)
    created = False
    if not repo.list_visits(session, cadre=DEMO_CADRE_NAME, limit=1):
        created = True
        _samples(session, cadre=cadre, now=now)
    accounts = _demo_staff(session, now=now) if staff else ()
    return DemoResult(
        invite_code=invite.code, cadre_unit=DEMO_UNIT, created_samples=created, staff=accounts
    )


def _demo_staff(session: Session, *, now: datetime) -> tuple[str, ...]:
    from bot.console.auth import hash_password

    for username, path in DEMO_STAFF:
        if repo.staff_by_username(session, username=username) is None:
            unit = repo.unit_by_path(session, path=path)
            assert unit is not None, path
            repo.create_staff(
                session,
                username=username,
                password_hash=hash_password(DEMO_PASSWORD),
                unit=unit,
                now=now,
            )
    return tuple(username for username, _ in DEMO_STAFF)


def _takes_demo_password(password_hash: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    from bot.console.auth import hasher

    try:
        return hasher().verify(password_hash, DEMO_PASSWORD)
    except (VerificationError, InvalidHashError):
        return False


def _demo_logins(session: Session) -> list[StaffAccount]:
    """The demo's console accounts that are active and still take the demo password."""
    found = (repo.staff_by_username(session, username=name) for name, _path in DEMO_STAFF)
    return [
        a for a in found if a is not None and a.active and _takes_demo_password(a.password_hash)
    ]


def _unused_demo_invite(session: Session) -> Invite | None:
    invite = repo.find_invite(session, code=DEMO_INVITE)
    return invite if invite is not None and invite.used_at is None else None


def demo_leftovers(session: Session) -> list[str]:
    """What the demo left that production must not keep, each saying how to remove it: a demo
    console login that still takes the demo password, the demo invite while unused."""
    remedy = "`fuqing demo --remove` removes it"
    problems = [
        f"the demo console login {account.username!r} still takes the demo password "
        f"{DEMO_PASSWORD!r}: {remedy} (`fuqing staff add` makes real accounts)"
        for account in _demo_logins(session)
    ]
    if _unused_demo_invite(session) is not None:
        problems.append(
            f"the demo invite {DEMO_INVITE} is unused, so anyone who sends “绑定 {DEMO_INVITE}” "
            f"becomes a cadre of {DEMO_UNIT}: {remedy}"
        )
    return problems


def remove_demo_leftovers(session: Session) -> list[str]:
    """Delete what `demo_leftovers` finds; the demo logins and the invite removed, by name."""
    removed = []
    for account in _demo_logins(session):
        repo.remove_staff(session, staff=account)
        removed.append(f"console login {account.username}")
    invite = _unused_demo_invite(session)
    if invite is not None:
        repo.revoke_invite(session, invite=invite)
        removed.append(f"invite {DEMO_INVITE}")
    return removed


def demo_cadre(session: Session, *, now: datetime) -> User:
    """The demo cadre of 朝阳区双井街道, reachable as the terminal user `demo-cadre`."""
    _identity, user, _new = repo.get_or_create_identity(
        session, channel="terminal", external_id=TERMINAL_CADRE, now=now
    )
    if user.role != "cadre":
        unit = repo.unit_by_path(session, path=DEMO_UNIT)
        assert unit is not None
        invite = repo.create_invite(session, unit=unit, name=DEMO_CADRE_NAME, now=now)
        repo.redeem_invite(session, invite=invite, user=user, now=now)
    return user


def _samples(session: Session, *, cadre: User, now: datetime) -> None:
    _identity, resident, _new = repo.get_or_create_identity(
        session, channel="api", external_id="demo-resident", now=now
    )
    repo.set_consent(session, user=resident, now=now)
    for need, categories, district, street, community in SAMPLE_REQUESTS:
        place = repo.unit_for_place(session, district=district, street=street)
        unit, _cadres = routing.responsible_unit(session, unit=place)
        repo.create_help_request(
            session,
            unit_id=unit.id or 0,
            need=need,
            primary=categories[0],
            categories=categories,
            crisis=False,
            district=district,
            street=street,
            community=community,
            contact="chat",
            phone=None,
            requester_id=resident.id,
            created_by=resident.id,
            source="chat",
            now=now,
        )
    for days, district, street, community, form, whom, people, focus, notes, cats in SAMPLE_VISITS:
        repo.create_visit(
            session,
            cadre_id=cadre.id or 0,
            unit_id=cadre.unit_id or 0,
            on=(now - timedelta(days=days)).date(),
            district=district,
            street=street,
            community=community,
            visit_form=form,
            whom=whom,
            people=people,
            focus=focus,
            notes=notes,
            primary=cats[0],
            categories=cats,
            help_request_id=None,
            now=now,
        )
