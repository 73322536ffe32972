"""The data side of the migrations that encrypt columns (0004, 0005): rewrite a column's existing
values in batches, encrypting plaintext or (downgrading) decrypting ciphertext, with the key the
app factory and the CLI configured before upgrading."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from storage import crypto

BATCH = 500


def rewrite(table: str, column: str, change: Callable[[str], str | None]) -> None:
    """Replace each non-null value by `change(value)` (None: leave the row as it is)."""
    if context.is_offline_mode():  # `alembic upgrade --sql`: no rows to read
        return
    rows = sa.table(table, sa.column("id", sa.Integer()), sa.column(column, sa.Text()))
    connection = op.get_bind()
    last = 0
    while True:
        batch = connection.execute(
            sa.select(rows.c.id, rows.c[column])
            .where(rows.c.id > last, rows.c[column].is_not(None))
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for row_id, value in batch:
            new = change(value)
            if new is not None:
                connection.execute(rows.update().where(rows.c.id == row_id).values({column: new}))
        last = batch[-1][0]


def encrypt(value: str) -> str | None:
    """The value encrypted under the current key; None when it is ciphertext already."""
    return None if crypto.key_id_of(value) is not None else crypto.keyring().encrypt(value)


def decrypt(value: str) -> str | None:
    """The plaintext of a stored value; None when it is not ciphertext."""
    return None if crypto.key_id_of(value) is None else crypto.keyring().decrypt(value)
