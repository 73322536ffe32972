"""Fixtures for the NLP tests: one warmed `NLP` per session, built from the seed gazetteer."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.nlp import NLP, PlaceUnit

ROOT = Path(__file__).resolve().parents[2]
SEED_CSV = ROOT / "storage" / "data" / "beijing_units.csv"
DATA = ROOT / "tests" / "data"

# Used only when the seed CSV is absent: the districts plus the units the tests name.
_FALLBACK = """\
district,name,kind,aliases
东城区,东城区,district,东城
西城区,西城区,district,西城
朝阳区,朝阳区,district,朝阳
丰台区,丰台区,district,丰台
石景山区,石景山区,district,石景山
海淀区,海淀区,district,海淀
门头沟区,门头沟区,district,门头沟
房山区,房山区,district,房山
通州区,通州区,district,通州
顺义区,顺义区,district,顺义
昌平区,昌平区,district,昌平
大兴区,大兴区,district,大兴
怀柔区,怀柔区,district,怀柔
平谷区,平谷区,district,平谷
密云区,密云区,district,密云
延庆区,延庆区,district,延庆
东城区,东四街道,street,东四
东城区,和平里街道,street,和平里
东城区,前门街道,street,前门
东城区,朝阳门街道,street,朝阳门
西城区,什刹海街道,street,什刹海
西城区,大栅栏街道,street,大栅栏
西城区,牛街街道,street,牛街
西城区,月坛街道,street,月坛
朝阳区,双井街道,street,双井
朝阳区,劲松街道,street,劲松
朝阳区,望京街道,street,望京
朝阳区,八里庄街道,street,八里庄
朝阳区,十八里店乡,township,十八里店|十八里店地区
朝阳区,平房乡,township,平房地区
朝阳区,亚运村街道,street,亚运村
丰台区,右安门街道,street,右安门
丰台区,长辛店街道,street,长辛店
丰台区,马家堡街道,street,马家堡
石景山区,八角街道,street,八角
石景山区,苹果园街道,street,苹果园
石景山区,鲁谷街道,street,鲁谷
海淀区,中关村街道,street,中关村
海淀区,学院路街道,street,学院路
海淀区,清河街道,street,清河
海淀区,八里庄街道,street,八里庄
门头沟区,大峪街道,street,大峪
门头沟区,斋堂镇,town,斋堂
门头沟区,潭柘寺镇,town,潭柘寺
房山区,长阳镇,town,长阳
房山区,窦店镇,town,窦店
房山区,十渡镇,town,十渡
房山区,琉璃河镇,town,琉璃河|琉璃河地区
房山区,河北镇,town,
通州区,中仓街道,street,中仓
通州区,宋庄镇,town,宋庄
通州区,张家湾镇,town,张家湾
顺义区,胜利街道,street,
顺义区,赵全营镇,town,赵全营
顺义区,北务镇,town,北务
昌平区,回龙观街道,street,回龙观|回龙观地区
昌平区,天通苑北街道,street,天通苑北
昌平区,小汤山镇,town,小汤山
大兴区,魏善庄镇,town,魏善庄
大兴区,清源街道,street,清源
大兴区,庞各庄镇,town,庞各庄
大兴区,黄村镇,town,黄村|黄村地区
怀柔区,泉河街道,street,泉河
怀柔区,渤海镇,town,渤海
怀柔区,雁栖镇,town,雁栖
怀柔区,杨宋镇,town,杨宋
平谷区,大华山镇,town,大华山
平谷区,滨河街道,street,
平谷区,王辛庄镇,town,王辛庄
密云区,古北口镇,town,古北口
密云区,溪翁庄镇,town,溪翁庄
密云区,鼓楼街道,street,
密云区,不老屯镇,town,不老屯
延庆区,八达岭镇,town,八达岭
延庆区,永宁镇,town,永宁
延庆区,旧县镇,town,旧县
"""


def _rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def load_units() -> list[PlaceUnit]:
    """The seed gazetteer as PlaceUnits (the fallback list when the seed CSV is absent)."""
    text = SEED_CSV.read_text(encoding="utf-8") if SEED_CSV.exists() else _FALLBACK
    return [
        PlaceUnit(
            district=row["district"],
            name=row["name"],
            kind=row["kind"],
            aliases=tuple(a for a in (row.get("aliases") or "").split("|") if a),
        )
        for row in _rows(text)
    ]


@pytest.fixture(scope="session")
def units() -> list[PlaceUnit]:
    """The org units the NLP is built from."""
    return load_units()


@pytest.fixture(scope="session")
def nlp(units: list[PlaceUnit], tmp_path_factory: pytest.TempPathFactory) -> NLP:
    """One warmed NLP for the whole session, with its jieba cache in a temp dir."""
    return NLP.load(units, cache_dir=tmp_path_factory.mktemp("jieba"))
