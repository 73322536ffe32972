"""Free texts and dialogue state encrypted at rest, as the contact fields are (0004).

What a woman writes, and what is written about her, is stored as `storage.crypto` ciphertext.
Text columns (her story, resolutions, rating words, event notes, visit notes, pushes and their
errors, the message log, summary remarks and review comments) keep their type; the JSON columns
holding her words (the dialogue's slots, the stored replies, a summary's figures with excerpts
of visit notes) become TEXT holding one ciphertext of the whole document. Existing rows are
encrypted with the configured key (the app factory and the CLI configure it from
FUQING_SECRET_KEY before upgrading); on SQLite the tables whose type changes are copied (batch
mode; `storage.migrate.upgrade` turns foreign-key checks off around it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.field_migration import decrypt, encrypt, rewrite

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Text columns: encrypted in place.
TEXTS = (
    ("help_requests", "need"),
    ("help_requests", "resolution"),
    ("help_requests", "rating_note"),
    ("help_request_events", "note"),
    ("visits", "notes"),
    ("outbox", "text"),
    ("outbox", "last_error"),
    ("inbound_messages", "text"),
    ("quarterly_reports", "remark"),
    ("quarterly_reports", "review_comment"),
)
# JSON columns: JSON → TEXT, then the document's text encrypted. (table, column, nullable)
DOCUMENTS = (
    ("dialogue_sessions", "data", False),
    ("inbound_messages", "reply", True),
    ("quarterly_reports", "figures", True),
)


def upgrade() -> None:
    """Apply this revision."""
    _retype(sa.JSON(), sa.Text(), cast="text")
    for table, column in TEXTS:
        rewrite(table, column, encrypt)
    for table, column, _nullable in DOCUMENTS:
        rewrite(table, column, encrypt)


def downgrade() -> None:
    """Revert this revision (decrypts with the configured key)."""
    for table, column in TEXTS:
        rewrite(table, column, decrypt)
    for table, column, _nullable in DOCUMENTS:
        rewrite(table, column, decrypt)
    _retype(sa.Text(), sa.JSON(), cast="json")


def _retype(
    before: sa.types.TypeEngine[Any], after: sa.types.TypeEngine[Any], *, cast: str
) -> None:
    """Change the type of the DOCUMENTS columns (PostgreSQL converts with `column::cast`)."""
    for table, column, nullable in DOCUMENTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=before,
                type_=after,
                existing_nullable=nullable,
                postgresql_using=f"{column}::{cast}",
            )
