"""Crisis detection: present danger and suicidal intent found, the traps left alone."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlp import NLP

REF = dt.date(2026, 4, 15)


@pytest.mark.parametrize(
    "text",
    [
        "他现在正在打我，孩子在哭",
        "救命，他喝醉了要砸门进来",
        "老公拿着菜刀站在门口，说今天弄死我",
        "他说要掐死我，刚才还掐我脖子",
        "婆婆把我锁在屋里好几天了，不让出去",
        "有人一路跟着我，现在还在我后面，我好害怕",
        "前夫在单位楼下等我，说要泼我硫酸",
        "邻居家的孩子正被他爸拿棍子打，哭得厉害",
        "快来人，他又动手了",
    ],
)
def test_present_danger_is_crisis(nlp: NLP, text: str) -> None:
    """Violence happening now, weapons, confinement and being followed are crises."""
    a = nlp.analyze(text, REF)
    assert a.crisis is True
    assert a.self_harm is False
    assert a.primary == "rights"


@pytest.mark.parametrize(
    "text",
    [
        "我真的不想活了",
        "活着没意思，准备一了百了",
        "刚吞了一把安眠药",
        "我在天台边上，想跳下去",
        "拿刀片割腕了，血止不住",
        "遗书写好放在抽屉里了",
        "我想死",
    ],
)
def test_suicidal_intent_is_self_harm_crisis(nlp: NLP, text: str) -> None:
    """Suicidal intent or an attempt is a crisis to herself, tagged health first."""
    a = nlp.analyze(text, REF)
    assert a.crisis is True
    assert a.self_harm is True
    assert a.primary == "health"


@pytest.mark.parametrize(
    "text",
    [
        "笑死我了，孙子学会叫奶奶了",
        "今天加班累死了，有没有轻松点的活",
        "想死你们了，啥时候再搞活动",
        "在饭店打工，想换个工作",
        "孩子该打疫苗了，去哪打",
        "给社区打电话没人接",
        "之前被家暴过，已经离婚三年了，现在想找份工作",
        "人身安全保护令怎么申请，要准备什么材料",
        "吓死了，孩子差点从床上摔下来",
        "他骂我“你怎么不去死”，这能离婚吗",
        "以前他会动手，后来我搬出来了，现在挺安全的",
        "俩孩子天天打架，怎么管",
    ],
)
def test_traps_are_not_crisis(nlp: NLP, text: str) -> None:
    """Colloquial 死, non-violent 打, ended violence and order questions are not crises."""
    assert nlp.analyze(text, REF).crisis is False


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("妇联对家暴受害妇女有什么救助政策", False),
        ("孩子被老师体罚，算不算虐待，怎么投诉", False),
        ("跟第一任丈夫离婚就是因为他动手，现在的老公人很好", False),
        ("我十几岁时被继父打过，现在三十多了，想做个心理疏导", False),
        ("跟踪骚扰能报警吗？不是我，是我们小区有个姑娘", False),
        ("他天天家暴我，今晚又喝多了", True),
        ("闺女被邻居猥亵了，那人还住楼上", True),
        ("老公一直虐待孩子，我拦不住", True),
    ],
)
def test_violence_named_as_a_topic_is_not_an_event(nlp: NLP, text: str, crisis: bool) -> None:
    """家暴/虐待 named in a question or a policy is no crisis; with a victim or actor it is."""
    assert nlp.analyze(text, REF).crisis is crisis


@pytest.mark.parametrize(
    "text",
    [
        "他从厨房抄了家伙出来，眼睛都红了",
        "工头锁了宿舍大门，谁也出不去",
        "He is outside the bedroom with a knife, I'm hiding",
    ],
)
def test_oblique_weapons_locked_doors_and_english_are_crises(nlp: NLP, text: str) -> None:
    """A weapon named obliquely, a door locked on her by someone, danger said in English."""
    assert nlp.analyze(text, REF).crisis is True


@pytest.mark.parametrize(
    ("text", "self_harm"),
    [
        ("他放话了，等过完节回来就跟我算账", False),
        ("他说明天就要你的命", False),
        ("那人掂着把斧子在院里转", False),
        ("中介说欠的钱不还清就走不了", False),
        ("老板不让我们出门，说要干满一年", False),
        ("等我把闺女安顿好了，就一口气全吃了", True),
        ("我攒了好几瓶安眠药", True),
        ("我就想安安静静地走", True),
    ],
)
def test_lexicon_reads_time_threats_oblique_weapons_held_and_plans(
    nlp: NLP, text: str, self_harm: bool
) -> None:
    """Threats carried by a time, other ways to hold a weapon, held by a debt or a keeper,
    and self-harm planned once others are settled are crises the lexicon itself reads."""
    from bot.nlp.normalise import Normaliser
    from bot.nlp.safety import CrisisDetector

    safety = CrisisDetector().check(Normaliser().normalise(text))
    assert (safety.crisis, safety.self_harm) == (True, self_harm)


@pytest.mark.parametrize(
    "text",
    [
        "等过完年回来我就去新单位上班",
        "老板说过完节就把工资结清",
        "我爸掂着一兜子菜去看我奶奶了",
        "娘俩吃了上顿没下顿，想申请低保",
        "下班了想一个人安静地走回家，有没有夜跑的活动",
    ],
)
def test_time_words_and_holding_verbs_alone_are_no_crisis(nlp: NLP, text: str) -> None:
    """A time word without harm, a holding verb without a weapon, a poverty idiom: no crisis."""
    assert not nlp.analyze(text, REF).crisis
