"""Label corrections: staff's corrections of a help request's categories or crisis flag, kept
as labelled examples for the NLP's models (`fuqing nlp train`); the need text is encrypted.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "label_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model_categories", sa.JSON(), nullable=False),
        sa.Column("model_crisis", sa.Boolean(), nullable=False),
        sa.Column("staff_categories", sa.JSON(), nullable=False),
        sa.Column("staff_crisis", sa.Boolean(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["help_requests.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("label_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_label_corrections_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_label_corrections_corrected_at"), ["corrected_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("label_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_corrections_corrected_at"))
        batch_op.drop_index(batch_op.f("ix_label_corrections_request_id"))
    op.drop_table("label_corrections")
