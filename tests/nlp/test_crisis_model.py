"""The crisis model: deterministic training, cached weights, and the asymmetric decision."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from bot.nlp import NLP, crisis_train
from bot.nlp.crisis_model import (
    MODEL_FILE,
    TRAIN_FILE,
    CrisisModel,
    features,
    read_training,
    training_hash,
)
from bot.nlp.lexicon import DATA_DIR
from bot.nlp.normalise import Normaliser
from bot.nlp.safety import CrisisDetector

REF = dt.date(2026, 4, 15)


def _small_rows() -> list[tuple[str, str, str]]:
    """Every 8th row of the training data and every safety_check row (five folds need five of
    each label): enough to train, quick to do twice."""
    rows = read_training()
    return [r for i, r in enumerate(rows) if i % 8 == 0 or r[1] == "safety_check"]


def _chars(text: str) -> list[str]:
    """A stand-in tokenizer (no jieba) for the training tests."""
    return list(text)


def test_features_are_char_ngrams_and_tokens() -> None:
    """1–3-grams of characters (whitespace folded) and `w:` tokens longer than one character."""
    got = features("他 打我", ["他", "打我"])
    assert {"他", "打", "他 打", "打我", "w:打我"} <= got
    assert "w:他" not in got


def test_latin_words_are_their_own_features() -> None:
    """Latin words are `l:` features and never character n-grams (Latin script is no signal)."""
    got = features("he 打我 now", ["he", " ", "打我", "now"])
    assert {"l:he", "l:now", "打我", "w:打我"} <= got
    assert not {"h", "he", "e ", "w:he", "w:now"} & got


def test_shipped_weights_match_the_training_data() -> None:
    """The committed weights were trained on the committed data (no retraining at start-up)."""
    payload = json.loads((DATA_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    assert payload["hash"] == training_hash()
    assert 0.5 <= payload["thresholds"]["crisis"] < 1
    assert 0 < payload["thresholds"]["danger"] < payload["thresholds"]["crisis"]


def test_training_is_deterministic() -> None:
    """The same rows give the same weights, thresholds and figures, in any input order."""
    rows = _small_rows()
    first = crisis_train.train(rows, _chars, data_hash="x")
    second = crisis_train.train(list(reversed(rows)), _chars, data_hash="x")
    assert first == second


def test_stale_weights_are_retrained_once_then_cached(tmp_path: Path) -> None:
    """Changed training data is trained on first load, and the cached weights reused after."""
    data = tmp_path / "data"
    data.mkdir()
    rows = _small_rows()
    body = "".join(f"{t}\t{lab}\t{src}\n" for t, lab, src in rows)
    (data / TRAIN_FILE).write_text(body, encoding="utf-8")
    shutil.copy(DATA_DIR / MODEL_FILE, data / MODEL_FILE)  # stale: another hash
    shutil.copy(DATA_DIR / "pinyin_words.tsv", data / "pinyin_words.tsv")
    cache = tmp_path / "cache"
    trained = CrisisModel.load(_chars, crisis_train.train, data_dir=data, cache_dir=cache)
    assert trained.data_hash == training_hash(data)
    assert len(list(cache.glob("crisis_model-*.json"))) == 1

    def no_training(*args: object, **kwargs: object) -> dict[str, object]:
        raise AssertionError("retrained although cached weights match")

    again = CrisisModel.load(_chars, no_training, data_dir=data, cache_dir=cache)
    assert again.crisis_threshold == trained.crisis_threshold
    assert again.scores("他拿刀", ["拿刀"]) == trained.scores("他拿刀", ["拿刀"])


def test_thresholds_favour_recall() -> None:
    """Crisis: never below 0.5, at most 2 % of none above it; danger: 98 % of the danger rows
    caught, unless that would check more than 10 % of the none rows (issue 14's budget)."""
    labels = ["crisis"] * 50 + ["none"] * 50
    p = [0.9 - i / 100 for i in range(50)] + [0.45 - i / 200 for i in range(50)]
    t = crisis_train.choose_thresholds(labels, p, p)
    assert t["crisis"] == 0.5
    assert t["danger"] == pytest.approx(0.425, abs=1e-4)  # the check budget: 5 of 50 above
    wide = [0.9 - i / 100 for i in range(50)] + [0.2 - i / 400 for i in range(50)]
    assert crisis_train.choose_thresholds(labels, wide, wide)["danger"] == pytest.approx(0.42)


@pytest.mark.parametrize(
    "text",
    [
        "他说等他下班回来再收拾我",
        "他攥着一把砍刀在院子里转",
        "俺男人抄起斧头就往屋里冲",
        "说好去打工，到了就被关起来了",
        "经理让我下班后去他办公室，不去就辞退",
        "对门的孩子又被打得直叫",
        "他說今晚回來就弄死我",
        "wo lao gong na dao le",
        "help me he is hitting me",
        "I want to die, I have the pills here",
        "以前他打过我，现在他又拿刀了",
        "I am sitting on the ledge of the 12th floor window",
        "他又要硬来",
    ],
)
def test_crises_in_any_wording(nlp: NLP, text: str) -> None:
    """Dialect weapons, threats with a time, held, coercion, others hurt, any script: crisis."""
    a = nlp.analyze(text, REF)
    assert a.crisis is True
    assert a.safety_check is False


@pytest.mark.parametrize(
    "text",
    [
        "他又喝醉了",
        "我该不该走",
        "我怕我老公",
        "他又喝醉了，在客厅骂骂咧咧的",
        "我怕他",
        "他又喝上了",
        "我该走吗",
        "侄女身上总有淤青",
        "我老公一喝酒就吼，我心里很怕",
        "她胳膊上总有淤青，说是自己碰的",
        "他快出差回来了，我想先回娘家躲几天",
        "他一生气就捶墙",
        "有人介绍我表妹去缅甸做客服，说月薪三万还包机票",
        "我妹失联三天了",
        "日子没得盼头，不晓得熬到哪天",
    ],
)
def test_danger_signals_ask_for_a_safety_check(nlp: NLP, text: str) -> None:
    """Danger without enough to be sure: safety_check, not crisis — however short the message
    (under MODEL_MIN_CHARS the model is not asked, but the lexicon's signal still is)."""
    a = nlp.analyze(text, REF)
    assert (a.crisis, a.safety_check) == (False, True)


@pytest.mark.parametrize(
    "text",
    [
        "之前被家暴过，已经离婚三年了",
        "我妈十几年前喝过农药，现在身体挺好",
        "房贷还不上了，愁死了",
        "笑死，累死了",
        "孩子该打疫苗了",
        "我想出去打工",
        "想报个育婴师培训班",
        "问一下，骂人算不算家暴，我就是好奇",
    ],
)
def test_hard_non_crises_stay_calm(nlp: NLP, text: str) -> None:
    """Past violence, a relative's stable attempt, money, colloquial 死, 打工."""
    a = nlp.analyze(text, REF)
    assert (a.crisis, a.safety_check) == (False, False)


def test_cold_violence_raises_no_crisis(nlp: NLP) -> None:
    """Cold violence with no threat is no crisis. The ninth model asks the safety question here
    (P(danger) 0.44, threshold 0.28: 我, 说, 跟 lean to danger in short texts); the blind rounds'
    cold-violence messages are in its training data and it reads them calm (docs/nlp.md)."""
    assert not nlp.analyze("老公一个月不跟我说话", REF).crisis


@pytest.mark.parametrize(
    "text",
    [
        "wo xiang bao ming dian nao pei xun ban",
        "ni men ji dian xia ban",
        "Where can I renew my social security card",
        "I would like to volunteer at the community centre on weekends",
        "婚内强奸怎么认定",
        "家暴的一方离婚时会少分财产吗",
        "非法拘禁的立案标准是什么",
        "如果老公打孩子，妈妈可以报警吗，我们家没这事",
        "想参加培训，学怎么开导想轻生的人",
        "想学直播卖我们村的土鸡蛋",
        "不用了",
        "我再想想",
        "这部纪录片讲拐卖妇女，拍得很好",
        "我们吵归吵，他不是那种会动手的人",
        "我在写期末报告，题目是家暴对孩子的影响",
        "单位组织急救培训，讲了有人割腕该怎么包扎",
        "姐妹们快来给我打call",
        "昨晚玩狼人杀又被首刀了",
        "这个ddl要杀了我",
        "我在肉摊上班，天天拿刀剁排骨，想问有没有工伤保险",
        "我妈早上买菜突然晕倒了，医生说是低血糖",
        "我们周末去玩密室逃脱，被关在密室里一个钟头",
        "老板说要砍我绩效，我想换工作",
        "刷到个短视屏说有人被骗去缅北，吓死我了",
    ],
)
def test_ordinary_latin_and_law_questions_stay_calm(nlp: NLP, text: str) -> None:
    """Ordinary pinyin and English, and questions about the law with no case of her own."""
    a = nlp.analyze(text, REF)
    assert (a.crisis, a.safety_check) == (False, False)


@pytest.mark.parametrize(
    "text", ["门口有人守着不让我们出去", "he is beating my daughter right now"]
)
def test_held_by_guards_and_english_violence_are_crises(nlp: NLP, text: str) -> None:
    """Being held by guards, and violence now in English, raise a crisis."""
    assert nlp.analyze(text, REF).crisis


@pytest.mark.parametrize("text", ["这些天我都把药扔了，不想再治了", "不想再拖累孩子了，就这样吧"])
def test_model_alone_self_harm_gets_12356(nlp: NLP, text: str) -> None:
    """A self-harm crisis only the model raises still sets self_harm (12356 in the reply)."""
    assert not CrisisDetector().check(Normaliser().normalise(text)).crisis
    a = nlp.analyze(text, REF)
    assert (a.crisis, a.self_harm) == (True, True)


def test_violence_to_her_is_not_self_harm(nlp: NLP) -> None:
    """A crisis of violence to her (an oblique weapon) does not claim self-harm."""
    a = nlp.analyze("他把柴刀磨得锃亮放在床头", REF)
    assert a.crisis and not a.self_harm


def test_the_model_reads_traps_blanked() -> None:
    """The model scores the text the lexicon reads: colloquial 死 is blanked before it."""
    detector = CrisisDetector()
    assert "死" not in detector.blank_traps("笑死我了")


def test_he_does_not_know_where_she_is_is_no_threat(nlp: NLP) -> None:
    """ "他不知道我在哪" is the opposite of "他知道我住哪": past violence she got away from."""
    assert not nlp.analyze("他以前打过我，现在我搬到外地了，他不知道我在哪", REF).crisis


def test_model_alone_asks_when_the_text_says_the_danger_ended() -> None:
    """A model-only crisis in a text whose danger has ended is a safety check, not a crisis."""
    from bot.nlp.safety import Safety, decide

    live = Safety(crisis=False, self_harm=False)
    ended = Safety(crisis=False, self_harm=False, ended=True)
    assert decide(live, 0.99, 0.99, 0.0, (0.9, 0.3, 0.5)).crisis
    got = decide(ended, 0.99, 0.99, 0.9, (0.9, 0.3, 0.5))
    assert (got.crisis, got.safety_check, got.self_harm) == (False, True, True)
    lexicon = decide(Safety(crisis=True, self_harm=True), 0.0, 0.2, 0.0, (0.9, 0.3, 0.5))
    assert (lexicon.crisis, lexicon.self_harm) == (True, True)


def test_a_lexicon_crisis_the_model_reads_as_calm_asks_instead() -> None:
    """The lexicon says crisis, the model P(danger) < MODEL_VETO: a safety check, never nothing."""
    from bot.nlp.safety import MODEL_VETO, Safety, decide

    got = decide(Safety(crisis=True, self_harm=True), 0.0, MODEL_VETO / 2, 0.0, (0.9, 0.3, 0.5))
    assert (got.crisis, got.safety_check, got.self_harm) == (False, True, True)


@pytest.mark.parametrize(
    "text",
    [
        "Could someone help me fill out the application form",
        "My feet are killing me after standing all day",
        "He doesn't hit me, but he shouts a lot",
        "这个活动我想死了都要去",
    ],
)
def test_english_requests_and_idioms_are_no_crisis(nlp: NLP, text: str) -> None:
    """ "help me fill", "killing me" of sore feet, a negated hit, 想死了都要去: no crisis."""
    assert not nlp.analyze(text, REF).crisis


def test_hard_messages_by_cause_keep_their_figures(nlp: NLP) -> None:
    """The helper-written hard set (not blind): every danger flagged, at most 5 % false alarms."""
    from bot.nlp.blind import read_crisis_round

    rows = read_crisis_round(Path(__file__).parent / "fixtures" / "hard" / "crisis_by_cause.tsv")
    readings = [nlp.analyze(row.text, REF) for row in rows]
    danger = [r for row, r in zip(rows, readings, strict=True) if row.label != "none"]
    calm = [r for row, r in zip(rows, readings, strict=True) if row.label == "none"]
    assert all(r.crisis or r.safety_check for r in danger)
    assert sum(r.crisis for r in calm) <= 0.05 * len(calm)


@pytest.mark.parametrize("text", ["不用了", "对", "1", "好的", "没有了", "算了吧", "留个电话"])
def test_short_form_replies_are_not_weighed_by_the_model(nlp: NLP, text: str) -> None:
    """A form reply has too little for the model to weigh: no crisis, no safety question."""
    a = nlp.analyze(text, REF)
    assert (a.crisis, a.safety_check) == (False, False)


@pytest.mark.parametrize("text", ["救命", "他又来了", "jiu ming", "救救我"])
def test_short_cries_are_still_heard(nlp: NLP, text: str) -> None:
    """Short cries are the lexicon's: they raise a crisis or a safety check without the model."""
    a = nlp.analyze(text, REF)
    assert a.crisis or a.safety_check


def test_pinyin_reaches_what_chinese_reaches(nlp: NLP) -> None:
    """The hard set spelled in pinyin: danger recall ≥ 0.97, false alarms ≤ 6 % (Chinese: 2.4 %)."""
    from bot.nlp.blind import read_crisis_round

    rows = read_crisis_round(Path(__file__).parent / "fixtures" / "hard" / "pinyin_by_cause.tsv")
    readings = [nlp.analyze(row.text, REF) for row in rows]
    danger = [r for row, r in zip(rows, readings, strict=True) if row.label != "none"]
    calm = [r for row, r in zip(rows, readings, strict=True) if row.label == "none"]
    assert sum(r.crisis or r.safety_check for r in danger) >= 0.97 * len(danger)
    assert sum(r.crisis for r in calm) <= 0.06 * len(calm)


@pytest.mark.parametrize("name", ["long_by_cause.tsv", "english_by_cause.tsv"])
def test_long_and_english_messages_keep_their_figures(nlp: NLP, name: str) -> None:
    """Long messages with the danger mid-way, and English by cause: at most one danger missed
    (the retrained model of the fifth iteration reads "if I file for divorce I will not live to
    see the court date" at P(danger) 0.26, under its threshold 0.31), at most one false alarm."""
    from bot.nlp.blind import read_crisis_round

    rows = read_crisis_round(Path(__file__).parent / "fixtures" / "hard" / name)
    readings = [nlp.analyze(row.text, REF) for row in rows]
    danger = [r for row, r in zip(rows, readings, strict=True) if row.label != "none"]
    calm = [r for row, r in zip(rows, readings, strict=True) if row.label == "none"]
    assert sum(not (r.crisis or r.safety_check) for r in danger) <= 1
    assert sum(r.crisis for r in calm) <= 1


def test_a_long_text_is_also_read_by_windows(nlp: NLP, monkeypatch: pytest.MonkeyPatch) -> None:
    """A danger told in two sentences of a long, calm text asks at least (the whole text alone
    reads calm: the windows find it)."""
    import bot.nlp.analysis as analysis

    text = (
        "我家在村东头，种了三亩玉米两亩花生，今年雨水多，收成还行。"
        "孩子在镇上读初中，成绩中等，老师说要多督促，我想给他报个英语班。"
        "最近我老公说要带我去南方见个老板，可是他不让我告诉我妈，身份证也说帮我拿着。"
        "村里今年新修了水泥路，赶集方便多了，周三和周六都有大集。"
        "我婆婆身体还算硬朗，每天早上去广场跳舞，回来还帮着做饭喂鸡。"
        "去年我们家承包了两个鱼塘，草鱼鲢鱼都有，年底能卖个好价钱。"
        "我想了解下咱们这边有没有家政培训。"
    )
    a = nlp.analyze(text, REF)
    assert a.crisis or a.safety_check
    monkeypatch.setattr(analysis, "LONG_CHARS", 10**6)
    b = nlp.analyze(text, REF)
    assert not (b.crisis or b.safety_check)


def test_training_data_is_built_from_the_named_rounds_only(tmp_path: Path) -> None:
    """crisis_train.tsv is what `retrain build` makes now: every round in TRAINED_ROUNDS is in it,
    and no other blind round (an unseen round's figure in make eval must stay honest)."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    crisis_train.build(data_dir=data)
    built = (data / TRAIN_FILE).read_text(encoding="utf-8")
    assert built == (DATA_DIR / TRAIN_FILE).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in built.splitlines() if not line.startswith("#")]
    sources = {source.split(":")[0] for _, _, source in rows}
    blind = {p.stem for p in (Path(__file__).parents[1] / "data" / "blind").glob("crisis_*.tsv")}
    assert set(crisis_train.TRAINED_ROUNDS) <= sources & blind
    assert not (blind - set(crisis_train.TRAINED_ROUNDS)) & sources
