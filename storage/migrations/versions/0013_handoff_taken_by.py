"""接管: a hand-off staff opened themselves from the console records who took it over
(`taken_by`, their console login); such a thread is not her request for a person, so the
assessment's hand-offs-answered-in-time leaves it out.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("handoffs", sa.Column("taken_by", sa.String(length=64)))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("handoffs", "taken_by")
