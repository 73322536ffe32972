"""Need categories: the lexicons, the boundary rules and texts with no need."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlp import NLP
from bot.nlp.lexicon import read_table
from bot.nlp.tagger import ENGLISH_FILE, NeedTagger

REF = dt.date(2026, 4, 15)


@pytest.mark.parametrize(
    ("text", "primary", "categories"),
    [
        # jobs, including colloquial forms
        ("想找个活干，保洁啥的都行", "jobs", ("jobs",)),
        ("有没有招收银员的超市", "jobs", ("jobs",)),
        ("想在家挣点钱，带娃走不开", "jobs", ("jobs",)),
        ("我们合作社的核桃卖不出去，能帮找找销路吗", "jobs", ("jobs",)),
        ("想申请创业担保贷款开个小超市", "jobs", ("jobs",)),
        # health
        ("孩子咳嗽一个礼拜了，要不要去医院", "health", ("health",)),
        ("想约个妇科检查", "health", ("health",)),
        ("最近老失眠，情绪很差，想找心理咨询", "health", ("health",)),
        # knowledge
        ("社区有没有教用智能手机的课", "knowledge", ("knowledge",)),
        ("想听听家庭教育讲座", "knowledge", ("knowledge",)),
        ("我妈总接到诈骗电话，有没有防骗宣传", "knowledge", ("knowledge",)),
        # relief
        ("家里实在揭不开锅了，能给点补助吗", "relief", ("relief",)),
        ("低保怎么申请", "relief", ("relief",)),
        ("房子墙裂了，怕塌，能申请危房改造吗", "relief", ("relief",)),
        # rights
        ("老公打我，我想离婚", "rights", ("rights",)),
        ("公司知道我怀孕就把我辞退了", "rights", ("rights",)),
        ("包工头拖欠我工资半年了", "rights", ("rights",)),
        # other
        ("想报名做志愿者", "other", ("other",)),
        ("给你们提个建议，周末也开门吧", "other", ("other",)),
        ("妇联几点下班", "other", ("other",)),
    ],
)
def test_categories(nlp: NLP, text: str, primary: str, categories: tuple[str, ...]) -> None:
    """Each category is recognised from plain and colloquial wording."""
    a = nlp.analyze(text, REF)
    assert (a.primary, a.categories) == (primary, categories)


@pytest.mark.parametrize(
    ("text", "primary", "categories"),
    [
        # rule 1: her own dispute is rights even with a law question; a general one is knowledge
        ("想离婚，他不给孩子抚养费，法律上怎么说", "rights", ("rights",)),
        ("想了解一下婚姻法里彩礼是怎么规定的", "knowledge", ("knowledge",)),
        # rule 2: training towards a job gives both, primary what she asks for
        ("想报个月嫂培训班，学完好找工作", "knowledge", ("knowledge", "jobs")),
        # rule 3: money is relief, the thing it is for second
        ("孩子住院手术费还差三万，实在拿不出", "relief", ("relief", "health")),
        # rule 4: health information is knowledge, treatment is health
        ("有没有讲更年期保健的讲座", "knowledge", ("knowledge",)),
        ("更年期睡不着，想找医生看看", "health", ("health",)),
    ],
)
def test_boundary_rules(nlp: NLP, text: str, primary: str, categories: tuple[str, ...]) -> None:
    """The TAXONOMY boundary rules decide mixed texts."""
    a = nlp.analyze(text, REF)
    assert (a.primary, a.categories) == (primary, categories)


def test_other_is_never_combined(nlp: NLP) -> None:
    """A volunteering message mentioning work stays `other` alone."""
    a = nlp.analyze("周末想去做志愿服务，平时上班没空", REF)
    assert a.primary == "other"
    assert a.categories == ("other",)


@pytest.mark.parametrize(
    ("text", "not_expected"),
    [("我不需要找工作，就想问问补助", "jobs"), ("不用去医院了，想申请点救助", "health")],
)
def test_negation(nlp: NLP, text: str, not_expected: str) -> None:
    """A need after 不需要/不用/不想 does not count."""
    assert not_expected not in nlp.analyze(text, REF).categories


@pytest.mark.parametrize(
    "text", ["你好", "1", "好的", "嗯嗯", "ok", "", "走访了几户，大家都挺好，暂无需求"]
)
def test_no_need(nlp: NLP, text: str) -> None:
    """Greetings, bare numbers, yes/no and notes with no need give no category."""
    a = nlp.analyze(text, REF)
    assert a.primary is None
    assert a.categories == ()


@pytest.mark.parametrize(
    ("text", "primary", "categories"),
    [
        # word families rather than fixed phrases
        ("孩子上学了，想出来上个班", "jobs", ("jobs",)),
        ("我们种的板栗今年愁卖", "jobs", ("jobs",)),
        ("想在小区门口支个煎饼摊", "jobs", ("jobs",)),
        ("老伴走了以后家里没进项了，日子难熬", "relief", ("relief",)),
        ("娘俩吃了上顿没下顿", "relief", ("relief",)),
        ("电费欠了三个月，要停电了", "relief", ("relief",)),
        ("孩子他爸一分钱生活费都没给过", "rights", ("rights",)),
        ("产假回来，岗位被人顶了", "rights", ("rights",)),
        ("公司说我怀孕了，让我自己辞职", "rights", ("rights",)),
        ("在饭店被客人摸了，老板让我别计较", "rights", ("rights",)),
        ("前夫老在我单位门口等我", "rights", ("rights",)),
        ("妇联周六上班吗", "other", ("other",)),
        ("我想竞选居委会主任", "other", ("other",)),
        ("你们服务太好了，想送面锦旗", "other", ("other",)),
        # a general law question stays knowledge, also when asked for someone else
        ("夫妻共同财产包括婚前的房子吗，就是好奇", "knowledge", ("knowledge",)),
        ("遗嘱咋写才有效？给我妈问的", "knowledge", ("knowledge",)),
    ],
)
def test_general_forms(nlp: NLP, text: str, primary: str, categories: tuple[str, ...]) -> None:
    """Synonyms and colloquial variants of a need are recognised, not only the dev phrasing."""
    a = nlp.analyze(text, REF)
    assert (a.primary, a.categories) == (primary, categories)


def test_hiring_discrimination_keeps_jobs(nlp: NLP) -> None:
    """Marriage questions at an interview are rights, and the job search stays second."""
    a = nlp.analyze("面试的时候问我结没结婚、打不打算要孩子，这合法吗", REF)
    assert a.categories == ("rights", "jobs")


def test_negated_term_drops_what_is_inside(nlp: NLP) -> None:
    """不想找工作 drops 工作 as well, so learning to bake adds no jobs tag."""
    a = nlp.analyze("不想找工作，就是想学学烘焙，自己做着吃", REF)
    assert a.categories == ("knowledge",)


def test_training_needs_clear_job_evidence(nlp: NLP) -> None:
    """A lone weak job word (种植) does not turn a course into knowledge + jobs."""
    assert nlp.analyze("村里妇女想学种植技术，能请专家来讲讲吗", REF).categories == ("knowledge",)
    assert nlp.analyze("想考个育婴师证，哪里有培训", REF).categories == ("knowledge", "jobs")


def test_self_harm_words_are_health_without_crisis_flag() -> None:
    """Suicidal words point to health even if the crisis detector were to miss them."""
    t = NeedTagger().tag("活着太累了，今晚就想结束这一切")
    assert t.primary == "health"


def test_every_english_need_word_reaches_a_category() -> None:
    """Each row of need_words_en.tsv maps to Chinese the need lexicon scores (data in sync)."""
    tagger = NeedTagger()
    for english, chinese in read_table(ENGLISH_FILE, 2):
        scores, _, _ = tagger.scores(chinese)
        assert max(scores.values()) > 0, (english, chinese)


@pytest.mark.parametrize(
    ("text", "primary"),
    [
        ("I lost my JOB and need to find work", "jobs"),
        ("Where can I take computer classes?", "knowledge"),
        ("My ex won't pay child support", "rights"),
        ("Can I get help with my medical bills", "relief"),
        ("I'm pregnant, where is a gynecologist", "health"),
        ("I'd like to volunteer at your events", "other"),
    ],
)
def test_english_needs_are_read_in_chinese(text: str, primary: str) -> None:
    """English need words (plurals and any case included) reach the Chinese lexicon."""
    assert NeedTagger().tag(text).primary == primary


@pytest.mark.parametrize("text", ["I need a claſs", "K\u212aid job", "ＪＯＢ"])
def test_english_lookalike_letters_are_no_crash(text: str) -> None:
    """Letters that fold to ASCII only under Unicode rules (ſ, the Kelvin sign) are no English
    need word: the text is tagged, never a KeyError."""
    NeedTagger().tag(text)
