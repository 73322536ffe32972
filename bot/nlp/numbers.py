"""Chinese and Arabic numerals, and counts of people.

`chinese_to_int` reads the small numbers that appear in chat and visit notes
("十二", "两", "二十一", "三百五", "15", full-width "１５"). It works digit by
digit with the units 十/百/千/万, which covers every number a cadre types in a
note; anything it cannot read gives None rather than a guess.

`parse_count` finds how many people a note speaks of: a numeral followed by a
classifier for people (位/个/名/户/口…) or a word for people (宝妈, 姐妹, 妇女…).
"十几位" and "二十多个" give the lower bound (10, 20); "几位" and a pseudonym such
as "王某" give None, since the note does not say.
"""

from __future__ import annotations

import re

_DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "叁": 3,
    "仨": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

#: characters that may appear in a Chinese numeral (used by other modules' regexes)
CN_NUM_CHARS = "零〇○一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟"


def chinese_to_int(s: str) -> int | None:
    """Read a Chinese or Arabic numeral ("十二" -> 12, "两" -> 2, "15" -> 15), else None."""
    s = s.strip().translate(_FULLWIDTH)
    if not s:
        return None
    if s.isdecimal():
        return int(s)
    if "万" in s:
        high, _, low = s.partition("万")
        hi = chinese_to_int(high) if high else 1
        lo = chinese_to_int(low) if low else 0
        if len(low) == 1 and low in _DIGITS and lo is not None:
            lo *= 1000  # "一万二" is 12000
        if hi is None or lo is None:
            return None
        return hi * 10000 + lo
    total = 0
    digit: int | None = None
    last_unit = 10_000
    zero_seen = False
    for ch in s:
        if ch in "零〇○" and digit is None and total:
            zero_seen = True
            continue
        if ch in _DIGITS:
            if digit is not None:
                # "二零二六" style: digit by digit
                return _digit_string(s)
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if unit >= last_unit:
                return None
            total += (1 if digit is None else digit) * unit
            digit = None
            last_unit = unit
        elif ch.isdecimal():
            return None
        else:
            return None
    if digit is not None:
        # "三百五" means 350: a trailing digit after a unit scales to the next lower unit
        if not zero_seen and 100 <= last_unit < 10_000 and s[-2] in _UNITS:
            total += digit * (last_unit // 10)
        else:
            total += digit
    return total


def _digit_string(s: str) -> int | None:
    """Read digit-by-digit numerals such as "二〇二六"."""
    out = 0
    for ch in s:
        if ch not in _DIGITS:
            return None
        out = out * 10 + _DIGITS[ch]
    return out


# a number starts where its run of digits starts: a match from inside the run would have
# matched from its start, and trying every place of a long run would cost its square
_NUM = rf"(?:(?<!\d)\d+|(?<![{CN_NUM_CHARS}])[{CN_NUM_CHARS}]+)"
_PEOPLE_CLASSIFIER = "位个名户口人家"
_PEOPLE_WORDS = (
    "人|宝妈|妈妈|母亲|姐妹|妇女|女性|大姐|姐姐|阿姨|大妈|奶奶|老人|老太太|家庭|村民|居民"
    "|群众|学员|代表|同志|干部|女士|孩子|儿童|残疾人"
)
_COUNT_RE = re.compile(
    rf"(?P<num>{_NUM})(?P<approx>[几多余来])?"
    rf"(?:(?P<cls>[{_PEOPLE_CLASSIFIER}])(?:{_PEOPLE_WORDS})?|(?P<word>{_PEOPLE_WORDS}))"
)


def find_count(text: str) -> tuple[int, int, int] | None:
    """The first count of people in text and where it is: (value, start, end), else None
    ("王某等3人" -> (3, 3, 5))."""
    text = text.translate(_FULLWIDTH)
    for m in _COUNT_RE.finditer(text):
        raw = m.group("num")
        if raw == "一" and m.group("cls") == "家":
            continue  # "一家五口": 一家 is the household, the count follows
        value = chinese_to_int(raw)
        if value is None or value == 0:
            continue
        if m.group("cls") == "口" and value > 20:
            continue
        return value, m.start(), m.end()
    return None


def parse_count(text: str) -> int | None:
    """Number of people a text speaks of ("3位" -> 3, "十几位宝妈" -> 10, "王某" -> None)."""
    found = find_count(text)
    if found is not None:
        return found[0]
    text = text.translate(_FULLWIDTH)
    if re.fullmatch(r"\s*(\d+)\s*", text):
        return int(text.strip())
    return None
