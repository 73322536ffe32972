"""Field encryption at rest: contact fields (phones, names) are stored as AES-256-GCM ciphertext.

The key is derived from ``FUQING_SECRET_KEY`` (HKDF-SHA256, its own salt and info, so it differs
from the cookie-signing use of the same secret) and set once at start-up with `configure`, by
the app factory, the CLI and the test fixtures; nothing here reads the environment.

A stored value is ``fq1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. The key id (8 hex
characters, a fingerprint of the derived key) tells which key wrote a value, so `fuqing
rotate-key` can find the rows still under the old key. Reading a value under a key that is not
configured raises `UnknownKey`, never returns garbage.

The column types: `EncryptedString` (VARCHAR of a length: the contact fields), `EncryptedText`
(TEXT: the free texts — her story, notes, messages) and `EncryptedJSON` (TEXT holding a whole
JSON document, encrypted once: the dialogue's slots, a stored reply). Repository code reads and
writes plain strings and dicts. The ciphertext is randomised (a fresh nonce each write), so these
columns cannot be compared or sorted in SQL; the types refuse such expressions rather than
silently matching nothing. Only its length shows (`stored_length`): AES-GCM does not hide it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

PREFIX = "fq1"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID_CHARS = 8
_SALT = b"fuqing/field-encryption/v1"
_INFO = b"aes-256-gcm"
# Operators an encrypted column still supports in SQL: NULL tests only.
_ALLOWED_OPERATORS = frozenset({operators.is_, operators.is_not})


class KeyNotConfigured(RuntimeError):
    """Encrypted fields were read or written before `configure` was called."""


class UnknownKey(ValueError):
    """A stored value was written under a key that is not configured (or is not ciphertext)."""


def ciphertext_length(chars: int) -> int:
    """The longest stored form of a plaintext of `chars` characters (4 UTF-8 bytes each)."""
    return _stored_bytes(4 * chars)


def stored_length(plaintext: str) -> int:
    """The exact length of the stored form of `plaintext` (under any key)."""
    return _stored_bytes(len(plaintext.encode()))


def _stored_bytes(size: int) -> int:
    payload = NONCE_BYTES + size + TAG_BYTES
    return len(PREFIX) + 1 + KEY_ID_CHARS + 1 + (4 * payload + 2) // 3


@dataclass(frozen=True, slots=True)
class FieldKey:
    """One derived key and its id."""

    key_id: str
    aead: AESGCM


def derive(secret: str) -> FieldKey:
    """Derive the field key and its id from a secret (FUQING_SECRET_KEY)."""
    if not secret:
        raise ValueError("FUQING_SECRET_KEY is empty: field encryption needs a key")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret.encode())
    key_id = hmac.new(raw, b"key id", hashlib.sha256).hexdigest()[:KEY_ID_CHARS]
    return FieldKey(key_id=key_id, aead=AESGCM(raw))


class Keyring:
    """The current key (encrypts and decrypts) and old keys (decrypt only, during rotation)."""

    def __init__(self, secret: str, *, old: Iterable[str] = ()) -> None:
        self.current = derive(secret)
        self.keys = {self.current.key_id: self.current}
        for old_secret in old:
            key = derive(old_secret)
            self.keys.setdefault(key.key_id, key)

    @property
    def key_id(self) -> str:
        """The id of the key new values are written under."""
        return self.current.key_id

    def encrypt(self, plaintext: str) -> str:
        """Return the stored form of `plaintext` under the current key."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.current.aead.encrypt(nonce, plaintext.encode(), None)
        payload = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{PREFIX}:{self.current.key_id}:{payload}"

    def decrypt(self, stored: str) -> str:
        """Return the plaintext of a stored value; raise UnknownKey when no key here wrote it."""
        key_id = key_id_of(stored)
        if key_id is None:
            raise UnknownKey(
                "an encrypted column holds a value that is not ciphertext "
                "(run `fuqing db upgrade`, which encrypts old plaintext rows)"
            )
        key = self.keys.get(key_id)
        if key is None:
            raise UnknownKey(
                f"a value is encrypted under key {key_id}, but the configured key is "
                f"{self.key_id}: was FUQING_SECRET_KEY changed? Set the old one as "
                "FUQING_OLD_SECRET_KEY and run `fuqing rotate-key`"
            )
        payload = stored.split(":", 2)[2]
        try:
            blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
            return key.aead.decrypt(nonce, sealed, None).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise UnknownKey(f"a value under key {key_id} does not decrypt (corrupted)") from exc


def key_id_of(stored: str) -> str | None:
    """The key id of a stored value, or None when it is not in the ciphertext format."""
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != KEY_ID_CHARS:
        return None
    return parts[1]


_keyring: Keyring | None = None


def configure(secret: str, *, old: str | None = None) -> Keyring:
    """Set the process's field key from FUQING_SECRET_KEY (and FUQING_OLD_SECRET_KEY, read-only
    during a rotation); called once at start-up. Returns the keyring."""
    global _keyring
    _keyring = Keyring(secret, old=[old] if old else [])
    return _keyring


def keyring() -> Keyring:
    """The configured keyring; raise KeyNotConfigured before `configure`."""
    if _keyring is None:
        raise KeyNotConfigured(
            "field encryption key not configured: call storage.crypto.configure(secret_key) "
            "at start-up"
        )
    return _keyring


class _Refusing(TypeDecorator.Comparator[Any]):
    """Refuses SQL comparisons, which cannot match randomised ciphertext; IS NULL works."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        """Allow IS [NOT] NULL only."""
        if op not in _ALLOWED_OPERATORS:
            raise TypeError(f"{self.expr} is encrypted: compare or sort it in Python, not in SQL")
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        """Refuse, as `operate` does."""
        return self.operate(op, other, **kwargs)


class EncryptedString(TypeDecorator[str]):
    """A string column stored encrypted under the configured key (VARCHAR of `length`)."""

    impl = String
    cache_ok = True
    comparator_factory = _Refusing

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypt on the way in."""
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Decrypt on the way out."""
        return None if value is None else keyring().decrypt(value)


class EncryptedText(EncryptedString):
    """A free-text column stored encrypted (TEXT: no length to outgrow)."""

    impl = Text
    cache_ok = True


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored as one ciphertext (TEXT): one encryption per write, whatever its
    size. Compact JSON, UTF-8 kept as is (shorter than \\u escapes)."""

    impl = Text
    cache_ok = True
    comparator_factory = _Refusing

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Serialise, then encrypt."""
        if value is None:
            return None
        return keyring().encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """Decrypt, then parse."""
        return None if value is None else json.loads(keyring().decrypt(value))


def is_encrypted(column_type: object) -> bool:
    """True for a column type whose values are stored as ciphertext."""
    return isinstance(column_type, EncryptedString | EncryptedJSON)
