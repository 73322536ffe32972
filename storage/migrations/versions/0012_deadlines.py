"""限时办结 and reopening: a request's deadlines to accept and to resolve (UTC), when it was
accepted, how often it was reopened, and how far up its supervision went (0 none, 1 the
district, 2 the city).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE (SQLite has ADD and DROP COLUMN): other tables refer to this one.
    op.add_column("help_requests", sa.Column("accept_due", sa.DateTime(timezone=True)))
    op.add_column("help_requests", sa.Column("resolve_due", sa.DateTime(timezone=True)))
    op.add_column("help_requests", sa.Column("accepted_at", sa.DateTime(timezone=True)))
    op.add_column(
        "help_requests",
        sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "help_requests",
        sa.Column("supervised", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_help_requests_resolve_due", "help_requests", ["resolve_due"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_help_requests_resolve_due", table_name="help_requests")
    for column in ("supervised", "reopened", "accepted_at", "resolve_due", "accept_due"):
        op.drop_column("help_requests", column)
