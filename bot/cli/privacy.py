"""`fuqing rotate-key`: re-encrypt every encrypted column under the new FUQING_SECRET_KEY."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.startup import fail, load_settings, migrated_database

if TYPE_CHECKING:
    from storage.crypto import Keyring
    from storage.db import Database
    from storage.repo import EncryptedColumn, Rotated

BATCH = 500


def rotate_key(
    old_key: Annotated[
        str | None,
        typer.Option(
            "--old-key",
            help="the previous FUQING_SECRET_KEY (default: FUQING_OLD_SECRET_KEY)",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="rows per transaction")] = BATCH,
) -> None:
    """Re-encrypt contact fields written under the old key with FUQING_SECRET_KEY (repeatable)."""
    from storage import crypto, repo

    settings = load_settings()
    try:
        settings.check_secrets()
    except ValueError as weak:
        fail(str(weak))
    old = old_key or settings.old_secret_key
    if not old:
        fail("give the previous key: --old-key, or FUQING_OLD_SECRET_KEY")
        return
    if old == settings.secret_key:
        fail("the old key is FUQING_SECRET_KEY itself: set FUQING_SECRET_KEY to the new key first")
    keyring = crypto.configure(settings.secret_key, old=old)
    with migrated_database(settings) as db:
        totals = repo.Rotated()
        for target in repo.encrypted_columns():
            found = _rotate_column(db, target, keyring, batch)
            typer.echo(
                f"{target.label}: {found.rewritten} re-encrypted, {found.current} already "
                f"current, {found.unreadable} unreadable"
            )
            totals.rewritten += found.rewritten
            totals.current += found.current
            totals.unreadable += found.unreadable
    typer.echo(
        f"key {keyring.key_id}: {totals.rewritten} re-encrypted, {totals.current} already "
        f"current, {totals.unreadable} unreadable"
    )
    if totals.unreadable:
        fail("some values are under a key that is neither the new nor the old one: not changed")


def _rotate_column(db: Database, target: EncryptedColumn, keyring: Keyring, batch: int) -> Rotated:
    """One column, `batch` rows per transaction, from the lowest row id to the highest."""
    from storage import repo

    totals = repo.Rotated()
    while True:
        with db.transaction() as session:
            done = repo.reencrypt_batch(
                session, target=target, keyring=keyring, after_id=totals.last_id, limit=batch
            )
        if done.last_id == totals.last_id:
            return totals
        totals.rewritten += done.rewritten
        totals.current += done.current
        totals.unreadable += done.unreadable
        totals.last_id = done.last_id
