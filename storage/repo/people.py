"""Users, their channel identities, consent and cadre invites."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, insert, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, SQLModel, col, select

from storage.models import DialogueSession, Identity, InboundMessage, Invite, OrgUnit, User
from storage.repo._common import INVITE_CODE_LENGTH, stored, unused_code
from storage.repo.dialogue import DIALOGUE_COLUMNS, DIALOGUES, Dialogue, dialogue_from_row

IDENTITIES: Table = SQLModel.metadata.tables[Identity.__tablename__]
USERS: Table = SQLModel.metadata.tables[User.__tablename__]


def get_or_create_identity(
    session: Session, *, channel: str, external_id: str, now: datetime
) -> tuple[Identity, User, bool]:
    """Return the identity and user for a channel address, creating a resident if new."""
    found = session.exec(
        select(Identity, User)
        .join(User, col(User.id) == col(Identity.user_id))
        .where(Identity.channel == channel, Identity.external_id == external_id)
    ).first()
    if found is not None:
        identity, user = found
        identity.last_seen_at = stored(now)
        identity.active = True
        if user.deleted_at is None:
            return identity, user, False
        # The resident asked us to delete her data earlier: she starts over as a new person.
        user = _new_resident(session, now=now)
        identity.user_id = user.id or 0
        return identity, user, True
    user = _new_resident(session, now=now)
    identity = Identity(
        user_id=user.id or 0,
        channel=channel,
        external_id=external_id,
        created_at=stored(now),
        last_seen_at=stored(now),
    )
    session.add(identity)
    session.flush()
    return identity, user, True


def _new_resident(session: Session, *, now: datetime) -> User:
    user = User(role="resident", created_at=stored(now))
    session.add(user)
    session.flush()
    return user


# The message path's look-up, built once: the user at an address and her dialogue state in one
# round trip (a statement costs more to build than to run).
_USER_AT = (
    select_columns(User, IDENTITIES.c.id, *DIALOGUE_COLUMNS)
    .select_from(IDENTITIES)
    .join(User, col(User.id) == IDENTITIES.c.user_id)
    .outerjoin(DIALOGUES, DIALOGUES.c.user_id == IDENTITIES.c.user_id)
    .where(IDENTITIES.c.channel == bindparam("ch"), IDENTITIES.c.external_id == bindparam("ext"))
)
_SEEN = (
    update(IDENTITIES)
    .where(IDENTITIES.c.id == bindparam("iid"))
    .values(last_seen_at=bindparam("seen"), active=True)
)
_NEW_RESIDENT = insert(USERS).values(role="resident", created_at=bindparam("at"))
_NEW_IDENTITY = insert(IDENTITIES).values(
    user_id=bindparam("uid"),
    channel=bindparam("ch"),
    external_id=bindparam("ext"),
    active=True,
    created_at=bindparam("at"),
    last_seen_at=bindparam("at"),
)
_REPOINT = (
    update(IDENTITIES).where(IDENTITIES.c.id == bindparam("iid")).values(user_id=bindparam("uid"))
)


def user_at(
    session: Session, *, channel: str, external_id: str, now: datetime
) -> tuple[User, Dialogue, bool]:
    """The message path's look-up: the user writing from a channel address, her dialogue state
    and whether she is new (a new address, or a resident who had her data erased: she starts
    over as a new person). Marks the address seen."""
    row = session.execute(_USER_AT, {"ch": channel, "ext": external_id}).first()
    if row is None:  # a new address: a new resident (Core inserts; one unit of work costs more)
        at = stored(now)
        created = cast("CursorResult[Any]", session.execute(_NEW_RESIDENT, {"at": at}))
        assert created.inserted_primary_key is not None
        user_id = int(created.inserted_primary_key[0])
        session.execute(
            _NEW_IDENTITY, {"uid": user_id, "ch": channel, "ext": external_id, "at": at}
        )
        user = session.get(User, user_id)
        assert user is not None
        return user, dialogue_from_row(user_id, None, now=now), True
    user, identity_id = row[0], row[1]
    session.execute(_SEEN, {"iid": identity_id, "seen": stored(now)})
    if user.deleted_at is None:
        return user, dialogue_from_row(user.id or 0, row[2:], now=now), False
    user = _new_resident(session, now=now)
    session.execute(_REPOINT, {"iid": identity_id, "uid": user.id})
    return user, dialogue_from_row(user.id or 0, None, now=now), True


def get_user(session: Session, *, user_id: int) -> User | None:
    """Return one user by id."""
    return session.get(User, user_id)


def identity_of(session: Session, *, channel: str, external_id: str) -> Identity | None:
    """Return the identity for a channel address, if any."""
    return session.exec(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    ).first()


def latest_identity(session: Session, *, user_id: int) -> Identity | None:
    """Return the identity the user wrote from most recently (where pushes go)."""
    return session.exec(
        select(Identity)
        .where(Identity.user_id == user_id, col(Identity.active).is_(True))
        .order_by(col(Identity.last_seen_at).desc())
    ).first()


def set_consent(session: Session, *, user: User, now: datetime) -> None:
    """Record the user's consent to share her request with the federation."""
    if user.consent_at is None:
        user.consent_at = stored(now)
        session.add(user)


# ----------------------------------------------------------------------------- invites


def create_invite(session: Session, *, unit: OrgUnit, name: str, now: datetime) -> Invite:
    """Create an invite code that binds a cadre called `name` to `unit`."""
    code = unused_code(session, Invite.code, INVITE_CODE_LENGTH)
    invite = Invite(code=code, unit_id=unit.id or 0, name=name, created_at=stored(now))
    session.add(invite)
    session.flush()
    return invite


def find_invite(session: Session, *, code: str) -> Invite | None:
    """Return the invite with this code (case-insensitive), used or not."""
    return session.exec(select(Invite).where(Invite.code == code.strip().upper())).first()


def revoke_invite(session: Session, *, invite: Invite) -> None:
    """Delete an unused invite, so that its code binds no one."""
    if invite.used_at is not None:
        raise ValueError(f"invite {invite.code} is used: it binds a cadre already")
    session.delete(invite)
    session.flush()


def redeem_invite(session: Session, *, invite: Invite, user: User, now: datetime) -> OrgUnit:
    """Bind `user` as a cadre of the invite's unit and mark the invite used."""
    invite.used_at = stored(now)
    invite.used_by = user.id
    user.role = "cadre"
    user.unit_id = invite.unit_id
    user.name = invite.name
    session.add(invite)
    session.add(user)
    unit = session.get(OrgUnit, invite.unit_id)
    assert unit is not None
    return unit


def erase_user(session: Session, *, user: User, now: datetime) -> None:
    """Remove a resident's personal data: contact fields, message texts, dialogue state."""
    user.phone = None
    user.name = None
    user.consent_at = None
    user.deleted_at = stored(now)
    session.add(user)
    for message in session.exec(select(InboundMessage).where(InboundMessage.user_id == user.id)):
        message.text = ""
        message.reply = None
        session.add(message)
    for dialogue in session.exec(select(DialogueSession).where(DialogueSession.user_id == user.id)):
        dialogue.flow = None
        dialogue.state = None
        dialogue.data = {}
        session.add(dialogue)


def deactivate_identity(session: Session, *, channel: str, external_id: str) -> None:
    """Mark a channel address inactive (unfollowed, blocked): nothing is pushed there."""
    identity = session.exec(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    ).first()
    if identity is not None:
        identity.active = False
        session.add(identity)
