"""Date expressions in chat and visit notes, resolved against a reference date.

Each rule of the TAXONOMY dates table is one regular expression with a resolver. All rules
run over the text; the match that starts first (and, on a tie, is longest) wins, so
"2025年12月22日" beats the "12月22日" inside it and "上周三" beats the bare "周三".
Visit notes talk about the past, so expressions without a year (M月D日, 周X, holidays)
resolve to the latest such day on or before `ref`; relative ones (明天, 这周五) may land in
the future and the visit flow refuses those itself.

Numbers that are not dates never match: every rule needs a date word (月, 日/号 after a
month, 周/星期/礼拜, 天前, a holiday name), so "12号楼3单元" or "3个孩子" give None.
Holidays come from `data/holidays.tsv` (fixed days plus the lunar ones for 2020–2030);
the table is read once, by `NLP.load` or on the first call of `parse_date`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.numbers import CN_NUM_CHARS, chinese_to_int

_DATA = Path(__file__).parent / "data" / "holidays.tsv"

_N = rf"(?:\d{{1,2}}|[{CN_NUM_CHARS}]{{1,3}})"
_WD = "一二三四五六日天七末"
_WEEKDAY: dict[str, int] = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "七": 6,
    "末": 5,
}


@dataclass(frozen=True)
class Holiday:
    """One holiday: a name pattern and either a fixed month-day or dated occurrences."""

    pattern: re.Pattern[str]
    month_day: tuple[int, int] | None
    dates: tuple[dt.date, ...]


@functools.cache
def load_holidays(path: Path = _DATA) -> tuple[Holiday, ...]:
    """Read the holiday table (cached; `NLP.load` calls it so no message pays for it)."""
    fixed: dict[str, tuple[tuple[int, int], list[str]]] = {}
    lunar: dict[str, tuple[list[dt.date], list[str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, when, aliases = line.split("\t")
        alias_list = [a.strip() for a in aliases.split(",") if a.strip()]
        if len(when) == 5:
            month, day = (int(x) for x in when.split("-"))
            fixed[name] = ((month, day), alias_list)
        else:
            entry = lunar.setdefault(name, ([], alias_list))
            entry[0].append(dt.date.fromisoformat(when))
    out: list[Holiday] = []
    for md, alias_list in fixed.values():
        out.append(Holiday(re.compile("|".join(alias_list)), md, ()))
    for dates, alias_list in lunar.values():
        out.append(Holiday(re.compile("|".join(alias_list)), None, tuple(sorted(dates))))
    return tuple(out)


def _num(s: str) -> int | None:
    return chinese_to_int(s)


def _make(year: int, month: int | None, day: int | None) -> dt.date | None:
    if month is None or day is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _latest_on_or_before(month: int | None, day: int | None, ref: dt.date) -> dt.date | None:
    """The latest month/day on or before ref (this year, else last year)."""
    for year in (ref.year, ref.year - 1, ref.year - 2, ref.year - 3, ref.year - 4):
        d = _make(year, month, day)
        if d is not None and d <= ref:
            return d
    return None


def _year(s: str) -> int | None:
    if s.isdecimal():
        return 2000 + int(s) if len(s) == 2 else int(s)
    value = chinese_to_int(s)
    return value if value is not None and value > 1900 else None


def _year_offset(word: str | None) -> int | None:
    return {"去年": -1, "前年": -2, "今年": 0, "明年": 1, None: None}.get(word)


Resolver = Callable[[re.Match[str], dt.date], dt.date | None]


def _full_date(m: re.Match[str], ref: dt.date) -> dt.date | None:
    year = _year(m.group("y"))
    return _make(year, _num(m.group("m")), _num(m.group("d"))) if year else None


def _month_day(m: re.Match[str], ref: dt.date) -> dt.date | None:
    month, day = _num(m.group("m")), _num(m.group("d"))
    offset = _year_offset(m.group("yr"))
    if offset is not None:
        return _make(ref.year + offset, month, day)
    return _latest_on_or_before(month, day, ref)


def _month_rel(m: re.Match[str], ref: dt.date) -> dt.date | None:
    day = _num(m.group("d"))
    word = m.group("rel")
    year, month = ref.year, ref.month
    if word.startswith("上"):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    elif word.startswith("下"):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return _make(year, month, day)


_DAY_WORDS: dict[str, int] = {
    "大前天": -3,
    "前天": -2,
    "前日": -2,
    "昨天": -1,
    "昨日": -1,
    "昨晚": -1,
    "昨儿": -1,
    "昨夜": -1,
    "今天": 0,
    "今日": 0,
    "今儿": 0,
    "今早": 0,
    "今晚": 0,
    "今晨": 0,
    "明天": 1,
    "明日": 1,
    "明早": 1,
    "明儿": 1,
    "后天": 2,
    "大后天": 3,
}


def _day_word(m: re.Match[str], ref: dt.date) -> dt.date | None:
    return ref + dt.timedelta(days=_DAY_WORDS[m.group(0)])


def _ago(m: re.Match[str], ref: dt.date) -> dt.date | None:
    n = _num(m.group("n"))
    if n is None:
        return None
    unit = m.group("unit")
    days = n * 7 if unit in {"周", "星期", "个星期", "礼拜", "个礼拜"} else n
    return ref + dt.timedelta(days=-days if m.group("dir") in {"前", "以前", "之前"} else days)


def _months_ago(m: re.Match[str], ref: dt.date) -> dt.date | None:
    if m.group("half"):
        return ref - dt.timedelta(days=15)
    n = _num(m.group("n"))
    if n is None or n > 24:
        return None
    year, month = divmod(ref.year * 12 + ref.month - 1 - n, 12)
    month += 1
    day = ref.day
    while _make(year, month, day) is None:
        day -= 1  # 3月31日 one month back is the last day of February
    return dt.date(year, month, day)


def _bare_day(m: re.Match[str], ref: dt.date) -> dt.date | None:
    """A day of the month with no month: the latest such day on or before ref."""
    day = _num(m.group("d"))
    if day is None or not 1 <= day <= 31:
        return None
    year, month = ref.year, ref.month
    for _ in range(3):
        d = _make(year, month, day)
        if d is not None and d <= ref:
            return d
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return None


def _bare_weekend(m: re.Match[str], ref: dt.date) -> dt.date | None:
    """Bare 周末: the latest Saturday on or before ref (Sunday, when ref is that Sunday)."""
    if ref.weekday() == 6:
        return ref - dt.timedelta(days=1)
    return ref - dt.timedelta(days=(ref.weekday() - 5) % 7)


def _week_rel(m: re.Match[str], ref: dt.date) -> dt.date | None:
    offset = {"上上": -2, "上": -1, "本": 0, "这": 0, "下": 1}[m.group("rel").replace("个", "")]
    monday = ref - dt.timedelta(days=ref.weekday()) + dt.timedelta(weeks=offset)
    return monday + dt.timedelta(days=_WEEKDAY[m.group("wd")])


def _bare_weekday(m: re.Match[str], ref: dt.date) -> dt.date | None:
    back = (ref.weekday() - _WEEKDAY[m.group("wd")]) % 7
    return ref - dt.timedelta(days=back)


_RULES: tuple[tuple[re.Pattern[str], Resolver], ...] = (
    (
        re.compile(
            rf"(?P<y>(?<!\d)\d{{4}}|(?<!\d)\d{{2}}(?=年\d)|[{CN_NUM_CHARS}]{{4}})"
            rf"\s*年\s*(?P<m>{_N})\s*月\s*(?P<d>{_N})\s*[日号]?"
        ),
        _full_date,
    ),
    (re.compile(r"(?<!\d)(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"), _full_date),
    (
        re.compile(rf"(?:(?P<yr>去年|前年|今年|明年)|(?<![\d年]))(?P<m>{_N})月(?P<d>{_N})[日号]"),
        _month_day,
    ),
    (re.compile(rf"(?P<rel>上个?月|这个?月|本月|下个?月)(?P<d>{_N})[日号]"), _month_rel),
    (
        re.compile(
            r"大前天|大后天|前天|前日|昨天|昨日|昨晚|昨儿|昨夜|今天|今日|今儿|今早|今晚|今晨"
            r"|明天|明日|明早|明儿|后天"
        ),
        _day_word,
    ),
    (
        re.compile(
            rf"(?P<n>\d{{1,3}}|[{CN_NUM_CHARS}]{{1,3}})个?(?P<unit>天|日|周|星期|礼拜)"
            r"(?P<dir>以前|之前|前|后|以后|之后)(?![天日])"
        ),
        _ago,
    ),
    (
        re.compile(
            rf"(?:(?P<half>半)个?月|(?P<n>\d{{1,2}}|[{CN_NUM_CHARS}]{{1,3}})个月)(?:以前|之前|前)"
        ),
        _months_ago,
    ),
    (
        re.compile(rf"(?P<rel>上上个?|上个?|本|这个?|下个?)(?:周|星期|礼拜)(?P<wd>[{_WD}])"),
        _week_rel,
    ),
    (
        re.compile(
            rf"(?<![上本这下每个{CN_NUM_CHARS}\d])(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七])"
        ),
        _bare_weekday,
    ),
    (re.compile(rf"(?<![上本这下每个{CN_NUM_CHARS}\d])(?:周末|礼拜天?末)"), _bare_weekend),
    (
        # a day with no month ("23号去的", "十五日入户"): only before a time or visit word,
        # so house numbers, metro lines and 每月15号 stay numbers
        re.compile(
            rf"(?<![\d{CN_NUM_CHARS}月第每])(?P<d>\d{{1,2}}|[{CN_NUM_CHARS}]{{1,3}})[号日]"
            r"(?=那天|那日|当天|那会|上午|下午|中午|晚上|早上|傍晚|夜里|凌晨|一早|一大早"
            r"|去|来|到|入户|走访|回访|上门|家访|开|座谈|见|约|送|给|跟|和|与|在|又|再)"
        ),
        _bare_day,
    ),
)


def _holiday_date(h: Holiday, m: re.Match[str], text: str, ref: dt.date) -> dt.date | None:
    before = text[max(0, m.start() - 2) : m.start()]
    offset = _year_offset(before) if before in {"去年", "前年", "今年", "明年"} else None
    if h.month_day is not None:
        month, day = h.month_day
        if offset is not None:
            return _make(ref.year + offset, month, day)
        return _latest_on_or_before(month, day, ref)
    if offset is not None:
        same_year = [d for d in h.dates if d.year == ref.year + offset]
        return same_year[0] if same_year else None
    past = [d for d in h.dates if d <= ref]
    return past[-1] if past else None


def parse_date(
    text: str, ref: dt.date, *, holidays: tuple[Holiday, ...] | None = None
) -> dt.date | None:
    """Resolve the first date expression in text against ref (see TAXONOMY); None if none."""
    if holidays is None:
        holidays = load_holidays()
    text = text.replace("廿", "二十").replace("卅", "三十")
    candidates: list[tuple[int, int, Callable[[], dt.date | None]]] = []
    for pattern, resolver in _RULES:
        for m in pattern.finditer(text):
            candidates.append((m.start(), -len(m.group(0)), functools.partial(resolver, m, ref)))
    for h in holidays:
        for m in h.pattern.finditer(text):
            start = m.start()
            if text[max(0, start - 2) : start] in {"去年", "前年", "今年", "明年"}:
                start -= 2
            candidates.append(
                (start, -len(m.group(0)), functools.partial(_holiday_date, h, m, text, ref))
            )
    for _, _, resolve in sorted(candidates, key=lambda c: (c[0], c[1])):
        value = resolve()
        if value is not None:
            return value
    return None
