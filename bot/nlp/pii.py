"""Phone numbers and resident ID numbers: finding, validating and masking them.

Personal data is sensitive under 个人信息保护法: the app stores contacts only after consent
and must never write them to logs. This module finds

* mainland mobile numbers (1[3-9] + 9 digits, also written "138 1234 5678", "138-1234-5678"
  or with a +86 prefix), normalised to 11 digits;
* landlines with an area code ("010-12345678", "(010)12345678", "0106 1234567" is not
  guessed), normalised to "010-12345678";
* 18-character resident ID numbers whose GB 11643-1999 check digit is right (X upper-cased).

`mask_pii` keeps enough to recognise a number (138****5678, 110105********1234,
010-******78) and masks every ID-shaped string, valid check digit or not, because a typo in
an ID number is still personal data. `PiiMaskingFilter` applies it to log records; `digest`
stands for an id in a log line.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re

_MOBILE_RE = re.compile(
    r"(?<![\dA-Za-z])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\dA-Za-z])"
)
_LANDLINE_RE = re.compile(
    r"(?<![\dA-Za-z])[(（]?(0\d{2,3})[)）]?(?:[\s-]|(?<=[)）]))(\d{7,8})(?![\dA-Za-z])"
)
_ID18_RE = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx])(?![\dA-Za-z])")
_ID15_RE = re.compile(r"(?<![\dA-Za-z])([1-9]\d{14})(?![\dA-Za-z])")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_id_number(s: str) -> bool:
    """True when s is an 18-character resident ID number with a correct check digit."""
    s = s.strip().upper()
    if len(s) != 18 or not s[:17].isdecimal() or not (s[17].isdecimal() or s[17] == "X"):
        return False
    if s[0] == "0":
        return False
    return id_check_digit(s[:17]) == s[17]


def find_id_numbers(text: str) -> list[str]:
    """Valid 18-character resident ID numbers in text, upper-cased, in order, no repeats."""
    out: dict[str, None] = {}  # ordered, no repeats, O(1) per look-up
    for m in _ID18_RE.finditer(text):
        value = m.group(1).upper()
        if valid_id_number(value):
            out.setdefault(value)
    return list(out)


def find_phones(text: str) -> list[str]:
    """Mobile (11 digits) and landline ("010-12345678") numbers in text, in order, no repeats."""
    found: list[tuple[int, str]] = []
    mobiles: list[tuple[int, int]] = []  # spans, in text order and not overlapping
    for m in _MOBILE_RE.finditer(text):
        found.append((m.start(), "".join(m.groups())))
        mobiles.append(m.span())
    ends = [end for _start, end in mobiles]
    for m in _LANDLINE_RE.finditer(text):
        # the first mobile ending after the landline starts is the only one it can overlap
        k = bisect.bisect_right(ends, m.start())
        if k < len(mobiles) and mobiles[k][0] < m.end():
            continue
        found.append((m.start(), f"{m.group(1)}-{m.group(2)}"))
    out: dict[str, None] = {}  # ordered, no repeats, O(1) per look-up
    for _, value in sorted(found):
        out.setdefault(value)
    return list(out)


def _mask_mobile(m: re.Match[str]) -> str:
    return f"{m.group(1)}****{m.group(3)}"


def _mask_landline(m: re.Match[str]) -> str:
    number = m.group(2)
    return f"{m.group(1)}-{'*' * (len(number) - 2)}{number[-2:]}"


def _mask_id(m: re.Match[str]) -> str:
    value = m.group(1)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def digest(value: str) -> str:
    """A short digest of an id for the log (never the id itself: it may be a phone number)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def mask_pii(text: str) -> str:
    """Mask ID numbers (first 6 + last 4 kept), mobiles (138****5678), landlines (010-******78)."""
    text = _ID18_RE.sub(_mask_id, text)
    text = _ID15_RE.sub(_mask_id, text)
    text = _MOBILE_RE.sub(_mask_mobile, text)
    return _LANDLINE_RE.sub(_mask_landline, text)


class PiiMaskingFilter(logging.Filter):
    """A logging filter that masks phones and ID numbers in messages and tracebacks."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Format the message, mask it, clear args; mask exception and stack text; keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = f"{record.msg} {record.args}"
        record.msg = mask_pii(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        return True
