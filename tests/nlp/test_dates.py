"""Date expressions resolved against a reference date (every row of the TAXONOMY table)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlp import parse_date

WED = dt.date(2026, 4, 15)  # a Wednesday
NEW_YEAR = dt.date(2027, 1, 2)  # a Saturday, just after the year boundary


def d(s: str) -> dt.date:
    """Shorthand for an ISO date."""
    return dt.date.fromisoformat(s)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天去了趟居委会", "2026-04-15"),
        ("今日回访", "2026-04-15"),
        ("昨天晚上她打来电话", "2026-04-14"),
        ("前天上午入户", "2026-04-13"),
        ("大前天去的", "2026-04-12"),
        ("明天再去一趟", "2026-04-16"),
        ("后天陪她去医院", "2026-04-17"),
        ("五天前来登记的", "2026-04-10"),
        ("两天前见过她", "2026-04-13"),
        ("一周前打过电话", "2026-04-08"),
        ("本周一开的会", "2026-04-13"),
        ("这周五再去", "2026-04-17"),
        ("这星期二去过", "2026-04-14"),
        ("上周四座谈", "2026-04-09"),
        ("上星期六去的", "2026-04-11"),
        ("上礼拜天见的面", "2026-04-12"),
        ("上上周二去过一次", "2026-03-31"),
        ("周一去了村里", "2026-04-13"),
        ("星期五下午", "2026-04-10"),
        ("礼拜三上午", "2026-04-15"),
        ("周日去的敬老院", "2026-04-12"),
        ("周天在家", "2026-04-12"),
        ("礼拜天去的", "2026-04-12"),
        ("4月2日入户", "2026-04-02"),
        ("4月20号的事", "2025-04-20"),
        ("三月二十九号去的", "2026-03-29"),
        ("十二月三十一日", "2025-12-31"),
        ("2025年11月3日走访", "2025-11-03"),
        ("二〇二五年十一月三日", "2025-11-03"),
        ("2025-11-03 回访", "2025-11-03"),
        ("2025/11/3 回访", "2025-11-03"),
        ("去年5月6日见过", "2025-05-06"),
        ("上个月8号送的", "2026-03-08"),
        ("这个月1号开始", "2026-04-01"),
        ("本月10日", "2026-04-10"),
        ("元旦那天", "2026-01-01"),
        ("国庆节回访", "2025-10-01"),
        ("劳动节那会儿", "2025-05-01"),
        ("妇女节当天", "2026-03-08"),
        ("三八节那天", "2026-03-08"),
    ],
)
def test_table_rows(text: str, expected: str) -> None:
    """Each TAXONOMY date expression resolves against a mid-April Wednesday."""
    assert parse_date(text, WED) == d(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("上周三走访", "2026-12-23"),
        ("12月30号去的", "2026-12-30"),
        ("上个月15号", "2026-12-15"),
        ("元旦那天", "2027-01-01"),
        ("圣诞节那天", "2026-12-25"),
        ("去年12月20日", "2026-12-20"),
        ("本周一", "2026-12-28"),
        ("三天前", "2026-12-30"),
        ("周五", "2027-01-01"),
    ],
)
def test_year_boundary(text: str, expected: str) -> None:
    """Expressions cross the new year correctly from 2 January."""
    assert parse_date(text, NEW_YEAR) == d(expected)


@pytest.mark.parametrize(
    "text",
    [
        "她家有3个孩子",
        "住在8号楼2单元",
        "家里有两个老人",
        "人均月收入2800",
        "年收入大概4万",
        "孩子8个月大",
        "下午4点开会",
        "第2次上门",
        "门牌16号",
        "每周三下午有课",
        "一周三次透析",
        "4月31日",
        "2月30日",
        "没啥特别的",
        "地铁10号线旁边",
        "今年68岁",
    ],
)
def test_not_dates(text: str) -> None:
    """Numbers that are not dates, and impossible dates, give None."""
    assert parse_date(text, d("2026-04-15")) is None


def test_times_of_day_keep_the_date() -> None:
    """A time of day after the date word keeps the date."""
    assert parse_date("前天晚上八点她来过", WED) == d("2026-04-13")


def test_first_expression_wins() -> None:
    """With two date expressions, the first in the text is the date."""
    assert parse_date("3月5日约好，3月9日又去", WED) == d("2026-03-05")


def test_leap_day() -> None:
    """2月29日 resolves to the last leap year on or before ref."""
    assert parse_date("2月29日那天", d("2026-04-15")) == d("2024-02-29")


def test_lunar_holiday() -> None:
    """Lunar holidays come from the holiday table."""
    assert parse_date("春节前去慰问", d("2026-03-01")) == d("2026-02-17")
    assert parse_date("去年春节送的米面油", d("2026-03-01")) == d("2025-01-29")
