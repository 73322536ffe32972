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


JAN1 = d("2026-01-01")  # a Thursday, new year's day
MAR1 = d("2026-03-01")  # a Sunday, right after a 28-day February
LEAP = d("2024-03-01")  # a Friday, right after 29 February 2024


@pytest.mark.parametrize(
    ("ref", "text", "expected"),
    [
        # 今天 昨天 前天 大前天 · 明天 后天
        (JAN1, "今天上午在居委会值班", "2026-01-01"),
        (JAN1, "昨天去的她家", "2025-12-31"),
        (JAN1, "前天跟她通了电话", "2025-12-30"),
        (JAN1, "大前天下午入户", "2025-12-29"),
        (MAR1, "昨天见的面", "2026-02-28"),
        (LEAP, "昨天见的面", "2024-02-29"),
        (LEAP, "前天见的面", "2024-02-28"),
        (MAR1, "今儿早上又去了一趟", "2026-03-01"),
        (MAR1, "明天陪她去法院", "2026-03-02"),
        (d("2025-12-31"), "后天再去看看", "2026-01-02"),
        # N天前 · 一周前
        (JAN1, "3天前她来过", "2025-12-29"),
        (MAR1, "十天前入户", "2026-02-19"),
        (LEAP, "两天前见过", "2024-02-28"),
        (JAN1, "一个星期前打过电话", "2025-12-25"),
        (MAR1, "两周前开的会", "2026-02-15"),
        # 本周X 这周X 这星期X (weeks start on Monday)
        (JAN1, "本周一开会", "2025-12-29"),
        (JAN1, "这个星期三去的", "2025-12-31"),
        (MAR1, "这周一", "2026-02-23"),
        (MAR1, "这周日", "2026-03-01"),
        # 上周X 上星期X 上礼拜X · 上上周X
        (JAN1, "上周五去的", "2025-12-26"),
        (JAN1, "上个星期天", "2025-12-28"),
        (JAN1, "上礼拜二", "2025-12-23"),
        (MAR1, "上周天", "2026-02-22"),
        (MAR1, "上礼拜日送的米", "2026-02-22"),
        (JAN1, "上上周一", "2025-12-15"),
        (MAR1, "上上个礼拜六", "2026-02-14"),
        # bare 周X 星期X 礼拜X, 周日 = 周天 = 礼拜天
        (JAN1, "周四在村里", "2026-01-01"),
        (JAN1, "周五去的", "2025-12-26"),
        (JAN1, "周日在家", "2025-12-28"),
        (JAN1, "周天在家", "2025-12-28"),
        (JAN1, "礼拜天在家", "2025-12-28"),
        (JAN1, "星期日在家", "2025-12-28"),
        (MAR1, "礼拜天去的", "2026-03-01"),
        (MAR1, "星期六去的", "2026-02-28"),
        # M月D日 / M月D号 / 中文数字: latest on or before ref
        (JAN1, "12月25号送的慰问品", "2025-12-25"),
        (JAN1, "十二月二十三号去过", "2025-12-23"),
        (JAN1, "1月1日", "2026-01-01"),
        (JAN1, "1月2日", "2025-01-02"),
        (MAR1, "2月29日", "2024-02-29"),
        (LEAP, "2月29日那天", "2024-02-29"),
        (MAR1, "三月一号入户", "2026-03-01"),
        (MAR1, "3月5号下午", "2025-03-05"),
        (MAR1, "二月廿三日去的", "2026-02-23"),
        # YYYY年M月D日 · YYYY-MM-DD · YYYY/M/D
        (JAN1, "2025年12月2日走访", "2025-12-02"),
        (JAN1, "2025年12月2号", "2025-12-02"),
        (JAN1, "二〇二五年十二月二日", "2025-12-02"),
        (JAN1, "二零二五年十二月二日", "2025-12-02"),
        (JAN1, "2025-12-22 回访", "2025-12-22"),
        (JAN1, "2025/12/2 入户", "2025-12-02"),
        (JAN1, "2024年2月29日", "2024-02-29"),
        # 去年M月D日
        (JAN1, "去年12月3日", "2025-12-03"),
        (JAN1, "去年三月八号", "2025-03-08"),
        (MAR1, "去年2月28日", "2025-02-28"),
        (d("2025-03-01"), "去年2月29日", "2024-02-29"),
        # 上个月D号 · 这个月D号 本月D日
        (JAN1, "上个月31号", "2025-12-31"),
        (JAN1, "这个月1号", "2026-01-01"),
        (JAN1, "本月1日", "2026-01-01"),
        (MAR1, "上个月28号", "2026-02-28"),
        (LEAP, "上个月29号", "2024-02-29"),
        (d("2026-04-15"), "上个月31号", "2026-03-31"),
        (MAR1, "上月5号", "2026-02-05"),
        (MAR1, "这月1号", "2026-03-01"),
        (MAR1, "本月五号", "2026-03-05"),
        # holidays: latest on or before ref
        (JAN1, "元旦那天", "2026-01-01"),
        (d("2025-12-31"), "元旦那天", "2025-01-01"),
        (JAN1, "国庆节回访", "2025-10-01"),
        (JAN1, "劳动节那会儿", "2025-05-01"),
        (JAN1, "五一劳动节", "2025-05-01"),
        (JAN1, "妇女节", "2025-03-08"),
        (MAR1, "三八节那天", "2025-03-08"),
        (d("2026-03-08"), "三八妇女节当天", "2026-03-08"),
        (LEAP, "三八节", "2023-03-08"),
        # times of day keep the date
        (MAR1, "昨天下午", "2026-02-28"),
        (MAR1, "前天晚上八点", "2026-02-27"),
        (MAR1, "昨儿个傍晚", "2026-02-28"),
        (MAR1, "今早", "2026-03-01"),
        # generalisations beyond the table
        (MAR1, "23号下午去的", "2026-02-23"),
        (MAR1, "二十三号去的", "2026-02-23"),
        (MAR1, "1号上门", "2026-03-01"),
        (JAN1, "28号去的", "2025-12-28"),
        (MAR1, "一个月前", "2026-02-01"),
        (MAR1, "半个月前", "2026-02-14"),
        (MAR1, "周末去的", "2026-02-28"),
        (MAR1, "25年12月2日", "2025-12-02"),
    ],
)
def test_boundaries(ref: dt.date, text: str, expected: str) -> None:
    """Every table row across year and month boundaries and a leap February."""
    assert parse_date(text, ref) == d(expected)


@pytest.mark.parametrize(
    ("ref", "text"),
    [
        (d("2026-03-15"), "上个月31号"),  # February has no 31st
        (MAR1, "上个月29号"),  # 2026 is not a leap year
        (MAR1, "上个月30号"),
        (d("2025-03-01"), "去年2月30日"),
        (LEAP, "去年2月29日"),  # 2023 had no 29 February
        (MAR1, "她家有3个孩子"),
        (MAR1, "12号楼3单元"),
        (MAR1, "家里2个老人"),
        (MAR1, "月收入3000"),
        (MAR1, "坐1号线过来"),
        (MAR1, "3月份工资没发"),
        (MAR1, "三月份"),
        (MAR1, "2026年3月"),
        (MAR1, "上个月"),
        (MAR1, "去年"),
        (MAR1, "每月15号发工资"),
        (MAR1, "门牌28号"),
        (MAR1, "住3号院"),
        (MAR1, "一天三顿饭"),
        (MAR1, "两天一次透析"),
        (MAR1, "前两天"),
        (MAR1, "国庆期间"),
        (MAR1, "13号"),
    ],
)
def test_more_not_dates(ref: dt.date, text: str) -> None:
    """Impossible days, months alone and numbers that are not dates give None."""
    assert parse_date(text, ref) is None
