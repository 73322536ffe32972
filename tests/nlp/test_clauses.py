"""Clause scope: past-tense markers and negation apply to the clause that holds the hit."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlp import NLP
from bot.nlp.clauses import clauses, sentences, sets_past_time

REF = dt.date(2026, 4, 15)


def test_clauses_cut_at_punctuation_and_turns() -> None:
    """Punctuation, line breaks and words such as 但是/现在/今天 open a new clause."""
    assert clauses("以前他打过我，现在他又拿刀了") == ["以前他打过我", "现在他又拿刀了"]
    assert clauses("他喝醉了但是没动手\n我在屋里！") == ["他喝醉了", "但是没动手", "我在屋里"]
    assert clauses("  ，。 ") == []
    assert clauses("他喝多了 我好怕 怎么办") == ["他喝多了", "我好怕", "怎么办"]
    assert clauses("he is drunk 我好怕") == ["he is drunk 我好怕"]


def test_sentences_group_clauses_and_a_past_time_dates_the_rest() -> None:
    """Clauses are grouped by sentence; a past time (去年) dates later clauses of its sentence
    unless something renews it (又, 开始, 周五晚上)."""
    assert sentences("去年她想不开，吞了药。现在好了") == [["去年她想不开", "吞了药"], ["现在好了"]]
    assert sets_past_time("去年她想不开") is True
    assert sets_past_time("上周开始我把药攒起来") is False
    assert sets_past_time("他过一次就算了") is False


@pytest.mark.parametrize(
    "text",
    [
        "以前他打过我，现在他又拿刀了",
        "以前他打过我，他说要把我打残",
        "之前被家暴过，前几天他又找到我，说要弄死我",
        "那年他把我推下楼梯，这次他拿着刀在门口",
        "他昨天没动手，今天拿着刀在门口转",
        "他没打我，但他说今晚回来弄死我",
    ],
)
def test_a_past_clause_does_not_end_a_present_threat(nlp: NLP, text: str) -> None:
    """A past marker or a negation in an earlier clause leaves a later threat live: crisis."""
    assert nlp.analyze(text, REF).crisis is True


@pytest.mark.parametrize(
    "text",
    [
        "之前被家暴过，已经离婚三年了",
        "他打过我，已经离婚三年了，想问问孩子上学的事",
        "那年被他推下楼梯摔断了腿，离婚后再没见过他",
        "我妈十几年前喝过农药，抢救过来了，现在身体挺好",
        "他从没打过我，就是不爱说话",
        "他没动手，就是骂了几句",
        "他不打我也不骂我，就是一个月不跟我说一句话",
        "我小姨前几年想不开过，这两年按时复查，人也开朗多了",
        "闺蜜去年吃过一整瓶安眠药，早就康复了，我想学学怎么陪她",
        "昨晚追的剧里女主被人贩子拐到山里，看得我直哭",
        "学校想开课讲讲被陌生人拿刀威胁的时候怎么保护自己",
        "表姐前年闹离婚那阵子想不开，喝了半瓶农药，抢救回来了，现在开了个花店",
        "新出的网剧讲的是一个姑娘被拐进山里，最后她拿着镰刀逃出来了",
        "我在写一篇关于以开除相要挟的职场性骚扰的课程论文",
        "我们吵归吵，倒也没有谁动手",
        "累到我都快死了，老板还要砍我们的季度奖金",
        "他说要把我卖了换酒喝，开玩笑的啦",
        "他以前。会动手。现在。分开好几年了。想学点手艺",
    ],
)
def test_past_or_negated_danger_is_no_crisis(nlp: NLP, text: str) -> None:
    """Violence that ended, a relative's stable past attempt and 没打过 raise no crisis."""
    assert nlp.analyze(text, REF).crisis is False


@pytest.mark.parametrize(
    "text",
    [
        "我婆婆前年就说过不想活了，这几天又说不想活了",
        "胰岛素不打了 早点去找老伴",
        "以前他打过我 现在他拿着刀在门口",
        "上周开始我把药一颗颗攒起来，想着哪天撑不住就一口气吞了",
        "那年他打过我一次，这几天他又把我锁在屋里",
        "村里妇女主任说他现在还在打她",
    ],
)
def test_a_marker_inside_the_hit_or_a_now_keeps_it_live(nlp: NLP, text: str) -> None:
    """A past marker that is part of the hit itself (不打了 in 胰岛素不打了), or a now marker in
    the same clause, dates nothing: the self-harm or danger stays a crisis."""
    assert nlp.analyze(text, REF).crisis is True
