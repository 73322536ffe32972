"""SQLModel tables. Alembic (storage/migrations) owns the schema; these classes describe it.

Times are stored in UTC (sqlmodel's UTC datetime type: `timestamptz` on PostgreSQL); the edges
show Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.crypto import EncryptedJSON, EncryptedString, EncryptedText

# Contact fields are stored encrypted (storage/crypto.py): the column holds the ciphertext, whose
# longest form for a name of 64 characters fits in 512 and for a phone of 32 in 255. The free
# texts (her story, notes, messages, pushes) and the JSON of the dialogue's slots and the stored
# replies are encrypted too (TEXT: no length to outgrow); docs/privacy.md lists every column.
NAME_COLUMN = 512
PHONE_COLUMN = 255

# Status values of a help request, in the order a request moves through them.
REQUEST_STATUSES = ("new", "assigned", "in_progress", "resolved", "cancelled")
OPEN_STATUSES = ("new", "assigned", "in_progress")


class OrgUnit(SQLModel, table=True):
    """A unit of the federation's tree: 市 → 区 → 街道/乡镇 → 社区/村."""

    __tablename__ = "org_units"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_org_units_parent_name"),)

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="org_units.id", index=True)
    name: str = Field(max_length=64, index=True)
    # city | district | street | town | township | area | community
    level: str = Field(max_length=16)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    path: str = Field(max_length=255, unique=True)  # "北京市/朝阳区/双井街道"


class User(SQLModel, table=True):
    """A person: a resident, or a cadre bound to one org unit."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(default="resident", max_length=16)  # resident | cadre
    name: str | None = Field(default=None, sa_column=Column(EncryptedString(NAME_COLUMN)))
    unit_id: int | None = Field(default=None, foreign_key="org_units.id", index=True)
    phone: str | None = Field(default=None, sa_column=Column(EncryptedString(PHONE_COLUMN)))
    consent_at: datetime | None = None
    deleted_at: datetime | None = None
    created_at: datetime


class Identity(SQLModel, table=True):
    """A user's address on one channel (api user id, WeChat openid, Telegram chat id, …)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_identities_channel_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    active: bool = True
    created_at: datetime
    last_seen_at: datetime


class Invite(SQLModel, table=True):
    """An invite code that binds a cadre to a unit (`绑定 <code>`)."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    unit_id: int = Field(foreign_key="org_units.id")
    name: str = Field(sa_column=Column(EncryptedString(NAME_COLUMN), nullable=False))
    created_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, foreign_key="users.id")


class DialogueSession(SQLModel, table=True):
    """The one dialogue state of a user: the active flow, its state and slots (JSON)."""

    __tablename__ = "dialogue_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    flow: str | None = Field(default=None, max_length=32)
    state: str | None = Field(default=None, max_length=32)
    data: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False)
    )
    version: int = 0
    updated_at: datetime
    # When a pending safety check was asked (mirrors data["safety"]["at"], written by
    # `repo.save_dialogue`): the scheduler escalates unanswered ones (bot/domain/safety.py).
    safety_asked_at: datetime | None = Field(default=None, index=True)


class InboundMessage(SQLModel, table=True):
    """Every message received: the dedup claim (channel, msg_id) and the audit trail.

    Text is stored with phone and ID numbers masked (and encrypted, as the reply is); the reply is
    kept so that a repeated delivery gets the first answer.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "msg_id", name="uq_inbound_channel_msg"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    msg_id: str = Field(max_length=128)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    kind: str = Field(default="text", max_length=16)
    text: str = Field(default="", sa_column=Column(EncryptedText, nullable=False))
    reply: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(EncryptedJSON))
    received_at: datetime


class HelpRequest(SQLModel, table=True):
    """A woman's request for help, filed with a unit under a short code."""

    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_unit_status", "unit_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    requester_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    source: str = Field(default="chat", max_length=16)  # chat | visit
    unit_id: int = Field(foreign_key="org_units.id")
    status: str = Field(default="new", max_length=16)
    need: str = Field(sa_column=Column(EncryptedText, nullable=False))
    primary: str = Field(max_length=16)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    crisis: bool = False  # urgent: a danger now (bot/domain/urgent.py opens these at once)
    # 需关注: filed after she answered 安全 to a safety check (bot/domain/safety.py)
    attention: bool = False
    # violence | child | other | self_harm | held (bot.domain.urgent.DangerKind); None: not urgent
    danger_kind: str | None = Field(default=None, max_length=16)
    # The channel and address she wrote from (an urgent case is opened before any form).
    channel: str | None = Field(default=None, max_length=16)
    address: str | None = Field(default=None, sa_column=Column(EncryptedString(NAME_COLUMN)))
    district: str | None = Field(default=None, max_length=32)
    street: str | None = Field(default=None, max_length=64)
    community: str | None = Field(default=None, max_length=64)
    contact: str = Field(default="chat", max_length=16)  # chat | phone
    phone: str | None = Field(default=None, sa_column=Column(EncryptedString(PHONE_COLUMN)))
    assigned_to: int | None = Field(default=None, foreign_key="users.id")
    resolution: str | None = Field(default=None, sa_column=Column(EncryptedText))
    rating: str | None = Field(default=None, max_length=16)  # satisfied | basic | unsatisfied
    rating_note: str | None = Field(default=None, sa_column=Column(EncryptedText))
    rated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    # 限时办结 (bot/domain/deadlines.py): accept by, resolve by (a reopening sets a new one),
    # when it was first accepted; how often it was reopened; 督办 (bot/domain/supervision.py):
    # 0 none, 1 reported to the district, 2 to the city.
    accept_due: datetime | None = None
    resolve_due: datetime | None = Field(default=None, index=True)
    accepted_at: datetime | None = None
    reopened: int = 0
    supervised: int = 0


class HelpRequestEvent(SQLModel, table=True):
    """One step in a help request's history (created, assigned, resolved, note, …)."""

    __tablename__ = "help_request_events"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="help_requests.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(EncryptedText))
    at: datetime


class Visit(SQLModel, table=True):
    """A cadre's visit, filed in the unit's visit diary (妇情日记)."""

    __tablename__ = "visits"

    id: int | None = Field(default=None, primary_key=True)
    cadre_id: int = Field(foreign_key="users.id", index=True)
    unit_id: int = Field(foreign_key="org_units.id", index=True)
    date: date
    district: str | None = Field(default=None, max_length=32)
    street: str | None = Field(default=None, max_length=64)
    community: str | None = Field(default=None, max_length=64)
    visit_form: str | None = Field(default=None, max_length=16)
    whom: str = Field(max_length=128)
    people: int = 1
    focus: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: str = Field(sa_column=Column(EncryptedText, nullable=False))
    primary: str | None = Field(default=None, max_length=16)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    help_request_id: int | None = Field(default=None, foreign_key="help_requests.id")
    created_at: datetime


class Outbox(SQLModel, table=True):
    """A message to push to a user outside a reply (status changes, alerts, later reminders).

    `key` is a unique business key when the message must go out once only.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=128, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    channel: str = Field(max_length=16)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    urgent: bool = False
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | dead
    attempts: int = 0
    claimed_at: datetime | None = None  # a dispatcher took it; reclaimed if it never finished
    last_error: str | None = Field(default=None, sa_column=Column(EncryptedText))
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None = None


class QuarterlyReport(SQLModel, table=True):
    """A district-level unit's quarterly summary: its status and, once submitted, its figures."""

    __tablename__ = "quarterly_reports"
    __table_args__ = (UniqueConstraint("unit_id", "quarter", name="uq_quarterly_reports_unit_q"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_units.id", index=True)
    quarter: str = Field(max_length=8, index=True)  # "2026Q1"
    status: str = Field(default="open", max_length=16)  # open | submitted | accepted | returned
    remark: str | None = Field(default=None, sa_column=Column(EncryptedText))
    review_comment: str | None = Field(default=None, sa_column=Column(EncryptedText))
    # The figures hold counts, key terms and excerpts of visit notes (masked): encrypted too.
    figures: dict[str, Any] | None = Field(default=None, sa_column=Column(EncryptedJSON))
    submitted_at: datetime | None = None
    submitted_by: int | None = Field(default=None, foreign_key="users.id")
    reviewed_at: datetime | None = None
    updated_at: datetime


class ReportDueDate(SQLModel, table=True):
    """An admin's override of a quarter's summary due date."""

    __tablename__ = "report_due_dates"

    quarter: str = Field(primary_key=True, max_length=8)
    due_date: date
    note: str | None = Field(default=None, max_length=255)
    updated_at: datetime


class ContactPoint(SQLModel, table=True):
    """A leader's or department's contact point (联系点) or paired household (结对户).

    `kind` is district, street, community or household; `unit_id` is the unit of the point (for
    a household: the unit where she lives); `name` is the unit's or community's name, or the
    household's pseudonym (王某).
    """

    __tablename__ = "contact_points"
    __table_args__ = (
        UniqueConstraint("holder_id", "kind", "name", name="uq_contact_points_holder_kind_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    holder_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="org_units.id")
    name: str = Field(max_length=64)
    community: str | None = Field(default=None, max_length=64)
    created_at: datetime


class StaffAccount(SQLModel, table=True):
    """A console login: a unique username, its argon2 hash, bound to one org unit.

    A session carries the `session_generation` it was issued under; logout moves it on, which
    voids every session issued before.
    """

    __tablename__ = "staff_accounts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    unit_id: int = Field(foreign_key="org_units.id", index=True)
    active: bool = True
    # On duty: the city's duty staff get every urgent case at once (console, and chat when linked).
    on_duty: bool = False
    # Her chat identity (a users row), when linked: urgent cases and their chases reach her there.
    user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime
    last_login_at: datetime | None = None
    session_generation: int = 0


class LoginThrottle(SQLModel, table=True):
    """Failed console logins of one username, known or not (`key`: a keyed digest of it, so a
    password typed as a username is not kept); while `locked_until` is ahead, every attempt is
    refused. Rows with no failure for a day are deleted (bot/console/throttle.py)."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    locked_until: datetime | None = None
    last_failure_at: datetime = Field(index=True)


class CallbackNonce(SQLModel, table=True):
    """A platform callback's signed (timestamp, nonce), remembered while the timestamp is inside
    the accepted window, with a digest of the message it carried: the same pair with another
    message is a replay (bot/channels/wechat/replay.py). Rows past `expires_at` are pruned."""

    __tablename__ = "callback_nonces"

    channel: str = Field(primary_key=True, max_length=16)
    timestamp: int = Field(primary_key=True, sa_type=BigInteger)
    nonce: str = Field(primary_key=True, max_length=64)
    digest: str = Field(max_length=64)
    expires_at: datetime = Field(index=True)


class LabelCorrection(SQLModel, table=True):
    """Staff's correction of a help request's categories or crisis flag: a labelled example for
    the NLP's models (`fuqing nlp train`). `text` is the need the model read (her words:
    encrypted, and deleted with her data); `model_*` what the request was filed with, `staff_*`
    what the staff member says it is (categories: the primary first)."""

    __tablename__ = "label_corrections"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="help_requests.id", index=True)
    staff_id: int = Field(foreign_key="staff_accounts.id")
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    model_categories: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    model_crisis: bool
    staff_categories: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    staff_crisis: bool
    corrected_at: datetime = Field(index=True)


class Handoff(SQLModel, table=True):
    """A hand-off (转人工): a conversation between a woman and the staff of one unit.

    `unit_id` is the unit that answers (of her open request or her place, the nearest with a
    cadre; the city's duty staff when nobody is bound on her path). `status` is the thread's
    lifecycle (`bot/domain/handoff.py`: waiting → answered → closed). `answered_at` is the first
    reply of a person; `late_told_at` when she was told honestly that nobody had answered yet;
    `taken_by` the console login of staff who opened it themselves (接管), None when she asked.
    When she erases her data the row stays for the unit's figures, without her (`user_id`).
    """

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_unit_status", "unit_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    unit_id: int = Field(foreign_key="org_units.id")
    channel: str = Field(max_length=16)
    status: str = Field(default="waiting", max_length=16)  # waiting | answered | closed
    opened_at: datetime
    answered_at: datetime | None = None
    late_told_at: datetime | None = None
    last_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = Field(default=None, max_length=64)
    taken_by: str | None = Field(default=None, max_length=64)


class HandoffMessage(SQLModel, table=True):
    """One message of a hand-off: hers, a person's reply, or the bot's note (`author`:
    resident | staff | cadre | bot). `name` is who replied (a staff login or a cadre's name);
    the text is encrypted; her messages are stored with phone and ID numbers masked."""

    __tablename__ = "handoff_messages"

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(foreign_key="handoffs.id", index=True)
    author: str = Field(max_length=16)
    name: str | None = Field(default=None, max_length=64)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    at: datetime
