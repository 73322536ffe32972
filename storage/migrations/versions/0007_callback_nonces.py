"""Callback nonces: the signed (timestamp, nonce) pairs of WeChat / WeCom callbacks, remembered
for the accepted time window so that a replayed pair with another message is refused. On
PostgreSQL the table is UNLOGGED (written without WAL: no flush on the message path).

Revision ID: 0007
Revises: 0006_login
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006_login"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "callback_nonces",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "timestamp", "nonce"),
    )
    with op.batch_alter_table("callback_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_nonces_expires_at"), ["expires_at"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        # No WAL for a five-minute memory: a claim's commit then waits for no disk flush. A
        # crash empties the table, which reopens at most one window for replays.
        op.execute("ALTER TABLE callback_nonces SET UNLOGGED")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("callback_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_nonces_expires_at"))

    op.drop_table("callback_nonces")
