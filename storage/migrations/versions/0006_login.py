"""Console logins: a per-username throttle, and session generations instead of a logout time.

`login_throttle` counts failed logins per username (known or not, by a keyed digest); the
console refuses attempts while a row's `locked_until` is ahead. `staff_accounts.session_generation`
replaces `sessions_after`: logout moves the generation on, so a session issued in the same
second as the logout is void too (the old check compared whole seconds). Sessions issued before
this revision carry no generation and end: staff log in again once.

Revision ID: 0006_login
Revises: 0005
Create Date: 2026-12-16 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_login"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_last_failure_at"), ["last_failure_at"], unique=False
        )
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_column("sessions_after")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sessions_after", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column("session_generation")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_failure_at"))
    op.drop_table("login_throttle")
