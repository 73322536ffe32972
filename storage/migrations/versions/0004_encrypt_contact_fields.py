"""Contact fields encrypted at rest: widen them for the ciphertext and encrypt existing rows.

users.name, users.phone, invites.name and help_requests.phone hold `storage.crypto` ciphertext
(``fq1:<key id>:…``) from here on. Rows written before are encrypted here with the configured
key (the app factory and the CLI configure it from FUQING_SECRET_KEY before upgrading); a fresh
database has none. On SQLite the tables are copied (batch mode); `storage.migrate.upgrade` turns
foreign-key checks off around the upgrade for that and checks them afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.field_migration import decrypt, encrypt, rewrite

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, length before, length after, nullable)
COLUMNS = (
    ("users", "name", 64, 512, True),
    ("users", "phone", 32, 255, True),
    ("invites", "name", 64, 512, False),
    ("help_requests", "phone", 32, 255, True),
)


def upgrade() -> None:
    """Apply this revision."""
    for table, column, before, after, nullable in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=before),
                type_=sa.String(length=after),
                existing_nullable=nullable,
            )
    for table, column, *_lengths in COLUMNS:
        rewrite(table, column, encrypt)


def downgrade() -> None:
    """Revert this revision (decrypts with the configured key)."""
    for table, column, *_lengths in COLUMNS:
        rewrite(table, column, decrypt)
    for table, column, before, after, nullable in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=after),
                type_=sa.String(length=before),
                existing_nullable=nullable,
            )
