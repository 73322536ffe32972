"""Urgent cases: a help request opened at once by a crisis message carries the kind of danger
and the channel and address she wrote from; staff accounts may be on duty (every urgent case
reaches them) and linked to a chat user (so it reaches them in chat too).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (SQLite has ADD and DROP COLUMN): other tables refer to help_requests,
    # so it is not recreated in batch mode.
    op.add_column("help_requests", sa.Column("danger_kind", sa.String(length=16), nullable=True))
    op.add_column("help_requests", sa.Column("channel", sa.String(length=16), nullable=True))
    op.add_column("help_requests", sa.Column("address", sa.String(length=512), nullable=True))
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_staff_accounts_user_id_users", "users", ["user_id"], ["id"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_staff_accounts_user_id_users", type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.drop_column("on_duty")
    for column in ("address", "channel", "danger_kind"):
        op.drop_column("help_requests", column)
