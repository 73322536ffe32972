"""Places: districts and streets from the gazetteer, communities by pattern."""

from __future__ import annotations

import pytest

from bot.nlp import NLP

N = None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我住朝阳", ("朝阳区", N, N)),
        ("朝阳双井这边", ("朝阳区", "双井街道", N)),
        ("在双井", ("朝阳区", "双井街道", N)),
        ("海淀区中关村街道", ("海淀区", "中关村街道", N)),
        ("十八里店地区的姐妹", ("朝阳区", "十八里店乡", N)),
        ("去了十八里店乡", ("朝阳区", "十八里店乡", N)),
        ("朝阳门那块儿", ("东城区", "朝阳门街道", N)),
        ("海淀八里庄", ("海淀区", "八里庄街道", N)),
        ("八里庄", (N, "八里庄街道", N)),
        ("劲松街道农光里社区", ("朝阳区", "劲松街道", "农光里社区")),
        ("斋堂镇爨底下村", ("门头沟区", "斋堂镇", "爨底下村")),
        ("在宋庄镇小堡村开会", ("通州区", "宋庄镇", "小堡村")),
        ("住在九龙社区", (N, N, "九龙社区")),
        ("我们村里好多姐妹", (N, N, N)),
        ("在农村老家", (N, N, N)),
        ("乡村振兴", (N, N, N)),
        ("几个村的妇女", (N, N, N)),
        ("村委会换届", (N, N, N)),
        ("从河北老家来", (N, N, N)),
        ("俺家平房漏雨", (N, N, N)),
        ("没说在哪", (N, N, N)),
    ],
)
def test_match_places(
    nlp: NLP, text: str, expected: tuple[str | None, str | None, str | None]
) -> None:
    """Full official names come out for full and short forms; common words are not places."""
    assert nlp.match_places(text) == expected


def test_district_names(nlp: NLP) -> None:
    """The 16 districts in gazetteer order."""
    names = nlp.district_names()
    assert len(names) == 16
    assert names[:3] == ["东城区", "西城区", "朝阳区"]


def test_streets_of(nlp: NLP) -> None:
    """A district lists its own streets and towns only."""
    streets = nlp.streets_of("朝阳区")
    assert "双井街道" in streets
    assert "中关村街道" not in streets
    assert nlp.streets_of("不存在区") == []


DISTRICTS = [
    ("东城", "东城区"),
    ("西城", "西城区"),
    ("朝阳", "朝阳区"),
    ("丰台", "丰台区"),
    ("石景山", "石景山区"),
    ("海淀", "海淀区"),
    ("门头沟", "门头沟区"),
    ("房山", "房山区"),
    ("通州", "通州区"),
    ("顺义", "顺义区"),
    ("昌平", "昌平区"),
    ("大兴", "大兴区"),
    ("怀柔", "怀柔区"),
    ("平谷", "平谷区"),
    ("密云", "密云区"),
    ("延庆", "延庆区"),
]


@pytest.mark.parametrize(("short", "full"), DISTRICTS)
def test_every_district_short_and_full(nlp: NLP, short: str, full: str) -> None:
    """Each of the 16 districts is found by its short and its full name, in a sentence."""
    assert nlp.match_places(f"我是{short}的，想问问培训的事") == (full, N, N)
    assert nlp.match_places(f"家住{full}，孩子刚上小学") == (full, N, N)
    assert nlp.match_places(f"北京市{full}妇联") == (full, N, N)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 乡 and its 地区办事处 are one unit
        ("南磨房地区的宝妈", ("朝阳区", "南磨房乡", N)),
        ("南磨房乡", ("朝阳区", "南磨房乡", N)),
        ("平房地区有招聘会吗", ("朝阳区", "平房乡", N)),
        ("在金盏乡上班", ("朝阳区", "金盏乡", N)),
        ("金盏地区", ("朝阳区", "金盏乡", N)),
        ("常营地区", ("朝阳区", "常营回族乡", N)),
        ("回龙观地区", ("昌平区", "回龙观街道", N)),
        # short street names alone imply their district
        ("我在望京上班", ("朝阳区", "望京街道", N)),
        ("住中关村附近", ("海淀区", "中关村街道", N)),
        ("双井这边有活动吗", ("朝阳区", "双井街道", N)),
        ("回龙观的姐妹们", ("昌平区", "回龙观街道", N)),
        ("什刹海那边", ("西城区", "什刹海街道", N)),
        ("潘家园", ("朝阳区", "潘家园街道", N)),
        ("古北口", ("密云区", "古北口镇", N)),
        # district and street run together
        ("朝阳双井", ("朝阳区", "双井街道", N)),
        ("海淀中关村", ("海淀区", "中关村街道", N)),
        ("昌平回龙观", ("昌平区", "回龙观街道", N)),
        ("朝阳望京", ("朝阳区", "望京街道", N)),
        ("大兴黄村", ("大兴区", "黄村镇", N)),
        ("通州宋庄", ("通州区", "宋庄镇", N)),
        ("顺义胜利", ("顺义区", "胜利街道", N)),
        ("朝阳平房", ("朝阳区", "平房乡", N)),
        ("朝阳区望京街道", ("朝阳区", "望京街道", N)),
        ("海淀区的八里庄", ("海淀区", "八里庄街道", N)),
        # communities and villages by pattern
        ("朝阳区望京街道花家地社区", ("朝阳区", "望京街道", "花家地社区")),
        ("海淀中关村的科育社区", ("海淀区", "中关村街道", "科育社区")),
        ("大兴区黄村镇狼垡村", ("大兴区", "黄村镇", "狼垡村")),
        ("十八里店地区吕家营村", ("朝阳区", "十八里店乡", "吕家营村")),
        ("住在阳光社区", (N, N, "阳光社区")),
        ("老家是王家村的", (N, N, "王家村")),
        ("张各庄村的妇女", (N, N, "张各庄村")),
        ("崔各庄村", ("朝阳区", "崔各庄乡", "崔各庄村")),
        ("王家村村委会", (N, N, "王家村")),
        ("九龙社区医院", (N, N, "九龙社区")),
        # traps: common words are no places
        ("北京", (N, N, N)),
        ("我在北京打工", (N, N, N)),
        ("在农村带孩子", (N, N, N)),
        ("村里的路不好走", (N, N, N)),
        ("乡村振兴的政策", (N, N, N)),
        ("去社区医院看病", (N, N, N)),
        ("社区工作者来过", (N, N, N)),
        ("找村委会", (N, N, N)),
        ("村干部说的", (N, N, N)),
        ("社区卫生服务站", (N, N, N)),
        ("我们社区", (N, N, N)),
        ("他们村的", (N, N, N)),
        ("去了各村", (N, N, N)),
        ("新农村建设", (N, N, N)),
        ("本社区居民", (N, N, N)),
        ("社区书记说", (N, N, N)),
        ("朝阳区的平房", ("朝阳区", N, N)),
    ],
)
def test_more_places(
    nlp: NLP, text: str, expected: tuple[str | None, str | None, str | None]
) -> None:
    """Aliases, short forms, run-together names, communities and traps."""
    assert nlp.match_places(text) == expected
