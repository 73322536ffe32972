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
