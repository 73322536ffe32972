"""Safety check: a help request filed after she answered 安全 to 您现在安全吗？ is marked
需关注 (`attention`); a dialogue's pending safety check is dated (`safety_asked_at`, indexed) so
that the scheduler finds the ones left unanswered.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (SQLite has ADD and DROP COLUMN): other tables refer to both tables.
    op.add_column(
        "help_requests",
        sa.Column("attention", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "dialogue_sessions", sa.Column("safety_asked_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_dialogue_sessions_safety_asked_at", "dialogue_sessions", ["safety_asked_at"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_dialogue_sessions_safety_asked_at", table_name="dialogue_sessions")
    op.drop_column("dialogue_sessions", "safety_asked_at")
    op.drop_column("help_requests", "attention")
