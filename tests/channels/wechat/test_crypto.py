"""WeChat / WeCom message crypto: the published vectors, round trips and hostile ciphertexts."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.channels.wechat.crypto import (
    CryptoError,
    MessageCrypto,
    SignatureError,
    check_signature,
    sha1_signature,
)
from bot.channels.wechat.xml import parse_message, parse_xml

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxb11529c136998cb6"
SPAM_APPID = "wx2c2769f8efd9abc2"
SPAM_TIMESTAMP, SPAM_NONCE = "1409735669", "1320562132"
SPAM_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SPAM_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
    "FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3y"
    "t+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v"
    "6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
WECOM_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECOM_CORPID = "wx5823bf96d3bd56c7"
WECOM_ECHOSTR = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)


def seal_raw(plain: bytes, key: str = KEY) -> str:
    """Encrypt raw bytes (already a multiple of 16) with the protocol's key and IV, no padding."""
    raw_key = base64.b64decode(key + "=")
    encryptor = Cipher(algorithms.AES(raw_key), modes.CBC(raw_key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def test_signature_vector() -> None:
    """token test, timestamp 1410685589, nonce test → the published signature."""
    assert (
        sha1_signature("test", "1410685589", "test") == "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    )
    check_signature("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "1410685589", "test")


def test_signature_is_order_independent() -> None:
    """The parts are sorted before hashing, so their order does not matter."""
    assert sha1_signature("b", "a", "c") == sha1_signature("c", "b", "a")


@pytest.mark.parametrize(
    "signature",
    [
        "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe",
        "F21891DE399B4E33A1A93C9A7B8A8FFFB5A443FF",
        "",
        "签名",
        "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff0",
    ],
)
def test_signature_rejected(signature: str) -> None:
    """A changed, empty, non-ASCII or over-long signature → SignatureError."""
    with pytest.raises(SignatureError):
        check_signature("test", signature, "1410685589", "test")


def test_encrypt_vector() -> None:
    """With random16 aaaabbbbccccdddd the published Encrypt comes out, and decrypts back."""
    crypto = MessageCrypto("test", KEY, APPID)
    encrypted = crypto.encrypt("我是中文abcd123", random16=b"aaaabbbbccccdddd")
    assert encrypted == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )
    assert crypto.decrypt(encrypted) == "我是中文abcd123"


def test_spamtest_vector() -> None:
    """The spamtest Encrypt has the published msg_signature and decrypts to the text message."""
    crypto = MessageCrypto("spamtest", KEY, SPAM_APPID)
    assert crypto.signature_of(SPAM_TIMESTAMP, SPAM_NONCE, SPAM_ENCRYPT) == SPAM_SIGNATURE
    crypto.check(SPAM_SIGNATURE, SPAM_TIMESTAMP, SPAM_NONCE, SPAM_ENCRYPT)
    message = parse_message(parse_xml(crypto.decrypt(SPAM_ENCRYPT).encode()))
    assert message.msg_type == "text"
    assert message.content == "abcdteT"
    assert message.msg_id == "6054768590064713728"


def test_spamtest_wrong_msg_signature() -> None:
    """A msg_signature off by one digit, or over another nonce, → SignatureError."""
    crypto = MessageCrypto("spamtest", KEY, SPAM_APPID)
    with pytest.raises(SignatureError):
        crypto.check(SPAM_SIGNATURE[:-1] + "4", SPAM_TIMESTAMP, SPAM_NONCE, SPAM_ENCRYPT)
    with pytest.raises(SignatureError):
        crypto.check(SPAM_SIGNATURE, SPAM_TIMESTAMP, "1320562133", SPAM_ENCRYPT)


def test_wecom_echostr_vector() -> None:
    """WeCom URL verification: the published echostr checks and decrypts to 1616140317555161061."""
    crypto = MessageCrypto("QDG6eK", WECOM_KEY, WECOM_CORPID)
    echo = crypto.decrypt_echo(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", WECOM_ECHOSTR
    )
    assert echo == "1616140317555161061"


def test_wecom_echostr_wrong_signature_is_not_decrypted() -> None:
    """decrypt_echo checks the signature first: a wrong one → SignatureError."""
    crypto = MessageCrypto("QDG6eK", WECOM_KEY, WECOM_CORPID)
    with pytest.raises(SignatureError):
        crypto.decrypt_echo("0" * 40, "1409659589", "263014780", WECOM_ECHOSTR)


@pytest.mark.parametrize("text", ["", "a", "你好", "x" * 31, "y" * 32, "妇联\n" * 500, "]]>&<"])
def test_round_trip_with_fresh_random(text: str) -> None:
    """Encrypting with random16=None decrypts back, and two encryptions differ."""
    crypto = MessageCrypto("tok", KEY, APPID)
    first, second = crypto.encrypt(text), crypto.encrypt(text)
    assert first != second
    assert crypto.decrypt(first) == crypto.decrypt(second) == text


def test_wrong_receive_id() -> None:
    """A message encrypted for another appid → CryptoError."""
    sealed = MessageCrypto("test", KEY, APPID).encrypt("你好")
    with pytest.raises(CryptoError):
        MessageCrypto("test", KEY, SPAM_APPID).decrypt(sealed)
    with pytest.raises(CryptoError):
        MessageCrypto("spamtest", KEY, APPID).decrypt(SPAM_ENCRYPT)


def test_wrong_key() -> None:
    """A message decrypted with another key → CryptoError."""
    sealed = MessageCrypto("test", KEY, APPID).encrypt("你好")
    with pytest.raises(CryptoError):
        MessageCrypto("test", WECOM_KEY, APPID).decrypt(sealed)


def test_tampered_last_block() -> None:
    """Changing the last ciphertext block breaks the padding or receive id → CryptoError."""
    raw = bytearray(base64.b64decode(SPAM_ENCRYPT))
    raw[-20] ^= 0x01
    with pytest.raises(CryptoError):
        MessageCrypto("spamtest", KEY, SPAM_APPID).decrypt(base64.b64encode(raw).decode())


def test_tampering_never_raises_another_type() -> None:
    """Flipping any single ciphertext byte gives CryptoError or some text — never another error."""
    crypto = MessageCrypto("test", KEY, APPID)
    raw = base64.b64decode(crypto.encrypt("我是中文abcd123", random16=b"aaaabbbbccccdddd"))
    outcomes = set()
    for index in range(len(raw)):
        tampered = bytearray(raw)
        tampered[index] ^= 0x80
        try:
            crypto.decrypt(base64.b64encode(tampered).decode())
            outcomes.add("text")
        except CryptoError:
            outcomes.add("error")
    assert "error" in outcomes


def test_tampered_ciphertext_fails_its_signature() -> None:
    """CBC is not authenticated: msg_signature is what catches a tampered Encrypt."""
    crypto = MessageCrypto("spamtest", KEY, SPAM_APPID)
    raw = bytearray(base64.b64decode(SPAM_ENCRYPT))
    raw[0] ^= 0x01
    with pytest.raises(SignatureError):
        crypto.check(SPAM_SIGNATURE, SPAM_TIMESTAMP, SPAM_NONCE, base64.b64encode(raw).decode())


@pytest.mark.parametrize(
    "encrypted",
    [
        "",
        "!!!not base64!!!",
        "abc",
        "5L2g5aW9",  # valid base64, 6 bytes: not a whole block
        base64.b64encode(b"\x00" * 16).decode(),  # one AES block, not a 32-byte protocol block
        SPAM_ENCRYPT[:-4],
        SPAM_ENCRYPT + "\n",
        "中文" * 20,
    ],
)
def test_bad_ciphertext(encrypted: str) -> None:
    """Bad base64, empty or wrongly sized ciphertexts → CryptoError."""
    with pytest.raises(CryptoError):
        MessageCrypto("spamtest", KEY, SPAM_APPID).decrypt(encrypted)


def _layout(msg: bytes, receive_id: bytes = APPID.encode(), length: int | None = None) -> bytes:
    """The protocol's plaintext layout before padding, with an optionally lying length field."""
    return b"r" * 16 + struct.pack(">I", len(msg) if length is None else length) + msg + receive_id


def _pad_size(body: bytes) -> int:
    """How many padding bytes PKCS#7/32 adds to `body`."""
    return 32 - len(body) % 32


def _padded(body: bytes) -> bytes:
    """`body` with correct PKCS#7/32 padding."""
    return body + bytes([_pad_size(body)]) * _pad_size(body)


HI = _layout(b"hi")  # 40 bytes: 24 bytes of padding


@pytest.mark.parametrize(
    "plain",
    [
        HI + b"\x00" * 24,  # pad byte 0
        HI + b"\x21" * 24,  # pad byte 33 > 32
        HI + b"\x18" * 10 + b"\x17" + b"\x18" * 13,  # ragged padding
        b"\x40" * 64,  # pad 64: longer than the block size
        b"\x20" * 32,  # all padding: no random16, no length
        b"r" * 16 + b"\x00\x00" + b"\x0e" * 14,  # length field cut off
        _padded(_layout(b"hi", length=999)),  # length beyond the plaintext
        _padded(_layout(b"\xff\xfe")),  # not UTF-8
        _padded(_layout(b"hi", receive_id=b"")),  # receive id missing
    ],
)
def test_bad_plaintext_structure(plain: bytes) -> None:
    """Bad padding, a lying length field or non-UTF-8 text → CryptoError."""
    assert len(plain) % 32 == 0
    with pytest.raises(CryptoError):
        MessageCrypto("test", KEY, APPID).decrypt(seal_raw(plain))


def test_hand_built_plaintext_decrypts() -> None:
    """The same hand-built layout with correct padding decrypts: the cases above test one flaw."""
    assert MessageCrypto("test", KEY, APPID).decrypt(seal_raw(_padded(HI))) == "hi"


@pytest.mark.parametrize(
    "key",
    [
        KEY[:-1],  # 42 characters
        KEY + "H",  # 44 characters
        KEY[:-1] + "!",  # not base64
        KEY[:-1] + "好",  # not ASCII
        "",
        "abcd",
    ],
)
def test_invalid_key(key: str) -> None:
    """An EncodingAESKey that is not base64 of 32 bytes → CryptoError."""
    with pytest.raises(CryptoError):
        MessageCrypto("test", key, APPID)


def test_encrypt_reply_envelope() -> None:
    """The reply envelope parses, its MsgSignature checks and its Encrypt decrypts to the reply."""
    crypto = MessageCrypto("spamtest", KEY, SPAM_APPID)
    reply = "<xml><Content><![CDATA[收到]]></Content></xml>"
    envelope = parse_xml(crypto.encrypt_reply(reply, timestamp="1409735670", nonce="n1").encode())
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert envelope["TimeStamp"] == "1409735670" and envelope["Nonce"] == "n1"
    crypto.check(envelope["MsgSignature"], "1409735670", "n1", envelope["Encrypt"])
    assert crypto.decrypt(envelope["Encrypt"]) == reply


def test_random16_must_be_16_bytes() -> None:
    """A random16 of another length is a programming error → ValueError."""
    with pytest.raises(ValueError, match="16 bytes"):
        MessageCrypto("test", KEY, APPID).encrypt("x", random16=b"short")
