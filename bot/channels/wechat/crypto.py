"""WeChat Official Account / WeCom message crypto (the "WXBizMsgCrypt" scheme).

Both platforms use the same protocol, published with Tencent's `WXBizMsgCrypt` samples:

* **Signatures.** A signature is the SHA-1 hex digest of its string parts sorted and concatenated.
  Plaintext-mode callbacks are signed over `(token, timestamp, nonce)` (`signature`); safe-mode
  callbacks and WeCom over `(token, timestamp, nonce, Encrypt)` (`msg_signature`). Because
  AES-CBC is not authenticated, `msg_signature` is the *only* integrity check of a ciphertext:
  always `check()` before `decrypt()`.
* **Key.** The 43-character `EncodingAESKey` is base64 without its padding:
  `key = base64decode(EncodingAESKey + "=")`, 32 bytes, so AES-256; the IV is `key[:16]`.
* **Plaintext layout.** `random16 + len(msg) as 4 bytes big-endian + msg (UTF-8) + receive_id`,
  padded PKCS#7-style to a multiple of **32** bytes (pad 1..32 bytes, each equal to the pad
  length), encrypted with AES-256-CBC without cipher-level padding and base64-encoded.
  `receive_id` is the appid (Official Account) or the CorpID (WeCom); decryption refuses any
  other id, so a message encrypted for another account is not accepted.
* **Replies** in safe mode go back in an envelope carrying `Encrypt`, `MsgSignature`,
  `TimeStamp` and `Nonce` (see `MessageCrypto.encrypt_reply`).

Every failure to decrypt (bad base64, wrong length, bad padding, truncated length field,
non-UTF-8 text, wrong receive id) raises `CryptoError`; every signature mismatch raises
`SignatureError`. Nothing else escapes, so a channel can map them to 400/403 without guessing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.channels.wechat.xml import cdata

__all__ = [
    "CryptoError",
    "MessageCrypto",
    "SignatureError",
    "check_signature",
    "sha1_signature",
]

BLOCK_SIZE = 32  # the protocol's PKCS#7 block size (not AES's 16)
_RANDOM_LEN = 16
_LEN_FIELD = 4


class SignatureError(Exception):
    """A `signature` or `msg_signature` does not match."""


class CryptoError(Exception):
    """A message cannot be decrypted (or the key is unusable)."""


def sha1_signature(*parts: str) -> str:
    """Return the SHA-1 hex digest of `parts` sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _same(expected: str, given: str) -> bool:
    """Compare two strings in constant time (also when `given` is not ASCII)."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def check_signature(token: str, signature: str, timestamp: str, nonce: str) -> None:
    """Check a plaintext-mode `signature` over (token, timestamp, nonce); raise SignatureError."""
    if not _same(sha1_signature(token, timestamp, nonce), signature):
        raise SignatureError("signature mismatch")


def _pad(data: bytes) -> bytes:
    """Pad `data` PKCS#7-style to a multiple of BLOCK_SIZE (always 1..32 bytes added)."""
    amount = BLOCK_SIZE - len(data) % BLOCK_SIZE
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    """Remove and verify PKCS#7/32 padding; raise CryptoError when it is not well-formed."""
    if not data:
        raise CryptoError("empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= BLOCK_SIZE or amount > len(data):
        raise CryptoError("bad padding")
    if data[-amount:] != bytes([amount]) * amount:
        raise CryptoError("bad padding")
    return data[:-amount]


class MessageCrypto:
    """Encrypt, decrypt and sign messages for one account (token, EncodingAESKey, receive id)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        """Decode the EncodingAESKey (base64 of 32 bytes without its '='); raise CryptoError."""
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("EncodingAESKey is not valid base64") from exc
        if len(key) != 32:
            raise CryptoError("EncodingAESKey must decode to 32 bytes")
        self.token = token
        self.receive_id = receive_id
        self._key = key
        self._iv = key[:16]

    def _cipher(self) -> Cipher[modes.CBC]:
        """A fresh AES-256-CBC cipher with IV = key[:16]."""
        return Cipher(algorithms.AES(self._key), modes.CBC(self._iv))

    def encrypt(self, plaintext: str, *, random16: bytes | None = None) -> str:
        """Encrypt `plaintext` for this receive id; base64 text for `Encrypt` or `echostr`."""
        if random16 is None:
            random16 = os.urandom(_RANDOM_LEN)
        elif len(random16) != _RANDOM_LEN:
            raise ValueError("random16 must be 16 bytes")
        msg = plaintext.encode("utf-8")
        raw = random16 + struct.pack(">I", len(msg)) + msg + self.receive_id.encode("utf-8")
        encryptor = self._cipher().encryptor()
        sealed = encryptor.update(_pad(raw)) + encryptor.finalize()
        return base64.b64encode(sealed).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """Decrypt base64 `encrypted`, check the receive id and return the message text."""
        try:
            sealed = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("ciphertext is not valid base64") from exc
        if not sealed or len(sealed) % BLOCK_SIZE:
            raise CryptoError("ciphertext length is not a multiple of the block size")
        decryptor = self._cipher().decryptor()
        raw = _unpad(decryptor.update(sealed) + decryptor.finalize())
        body = raw[_RANDOM_LEN:]
        if len(body) < _LEN_FIELD:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", body[:_LEN_FIELD])
        end = _LEN_FIELD + length
        if end > len(body):
            raise CryptoError("message length exceeds the plaintext")
        msg, from_id = body[_LEN_FIELD:end], body[end:]
        if not hmac.compare_digest(from_id, self.receive_id.encode("utf-8")):
            raise CryptoError("receive id mismatch")
        try:
            return msg.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CryptoError("message is not UTF-8") from exc

    def signature_of(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The `msg_signature` of `encrypted`: sha1 over (token, timestamp, nonce, encrypted)."""
        return sha1_signature(self.token, timestamp, nonce, encrypted)

    def check(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Check `msg_signature` over an encrypted payload; raise SignatureError."""
        if not _same(self.signature_of(timestamp, nonce, encrypted), msg_signature):
            raise SignatureError("msg_signature mismatch")

    def decrypt_echo(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """WeCom URL verification: check `msg_signature`, then return the decrypted echostr."""
        self.check(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def encrypt_reply(self, xml: str, *, timestamp: str, nonce: str) -> str:
        """Encrypt a reply `xml` and wrap it, signed, in the safe-mode reply envelope."""
        encrypted = self.encrypt(xml)
        signature = self.signature_of(timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt>{cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{escape(timestamp)}</TimeStamp>"
            f"<Nonce>{cdata(nonce)}</Nonce></xml>"
        )
