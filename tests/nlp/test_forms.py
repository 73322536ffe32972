"""Visit forms (only when named) and focus groups."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlp import NLP

REF = dt.date(2026, 4, 15)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("跟张姐一对一聊了一个小时", "一对一访谈"),
        ("和她面对面访谈", "一对一访谈"),
        ("找她单独聊了聊", "一对一访谈"),
        ("去合作社实地查看了生产情况", "实地考察"),
        ("实地考察了养殖场", "实地考察"),
        ("开了个座谈会", "座谈交流"),
        ("和村里妇女座谈", "座谈交流"),
        ("结对帮扶的李阿姨", "结对帮扶"),
        ("她是我结对的帮扶户", "结对帮扶"),
        ("今天走访了三户", None),
        ("去她家看了看", None),
        ("入户了解情况", None),
    ],
)
def test_visit_form(nlp: NLP, text: str, form: str | None) -> None:
    """A visit form is set only when the note names it."""
    assert nlp.analyze(text, REF).visit_form == form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("单亲妈妈，生活困难，孩子学费交不上", "单亲贫困母亲"),
        ("她是单身母亲，低保户", "单亲贫困母亲"),
        ("走访了一位独居的残疾大姐", "特殊困难妇女"),
        ("几个姐妹想一起创业", "创业就业"),
        ("她想找工作", "创业就业"),
        ("村委会换届，想参选", "参选参政"),
        ("春节前去慰问困难户", "帮扶救助"),
    ],
)
def test_focus_groups(nlp: NLP, text: str, expected: str) -> None:
    """Focus groups follow their words (and jobs/relief needs)."""
    assert expected in nlp.analyze(text, REF).focus


def test_single_mother_without_hardship(nlp: NLP) -> None:
    """A single mother with no hardship is not a 单亲贫困母亲."""
    assert "单亲贫困母亲" not in nlp.analyze("她是单亲妈妈，孩子上初中了，想学插花", REF).focus


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("面对面聊了聊她的打算", "一对一访谈"),
        ("和她面对面谈了谈", "一对一访谈"),
        ("单独跟她谈了半小时", "一对一访谈"),
        ("找她个别谈心", "一对一访谈"),
        ("开展谈心谈话", "一对一访谈"),
        ("实地查看了大棚", "实地考察"),
        ("到合作社实地调研", "实地考察"),
        ("实地核查了住房情况", "实地考察"),
        ("去现场考察了厂房", "实地考察"),
        ("开座谈会听听大家的想法", "座谈交流"),
        ("组织姐妹们座谈", "座谈交流"),
        ("大家围坐在一起聊", "座谈交流"),
        ("分小组讨论了就业问题", "座谈交流"),
        ("开了小组讨论", "座谈交流"),
        ("和她结成帮扶对子", "结对帮扶"),
        ("一帮一结了对子", "结对帮扶"),
        ("入户走访了三家", None),
        ("上门看了看", None),
        ("实地看了看", None),
        ("去现场看了看", None),
        ("今天又去了一趟", None),
    ],
)
def test_visit_form_wordings(nlp: NLP, text: str, form: str | None) -> None:
    """Common wordings of the four forms are read; generic visits give None."""
    assert nlp.analyze(text, REF).visit_form == form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("离异带着孩子，日子紧巴巴", "单亲贫困母亲"),
        ("丧偶，一个人拉扯两个孩子，家里很穷", "单亲贫困母亲"),
        ("她独自带孩子，经济困难", "单亲贫困母亲"),
        ("丈夫瘫痪在床，她一个人照顾", "特殊困难妇女"),
        ("想竞选居委会主任", "参选参政"),
        ("想开网店卖自家的核桃", "创业就业"),
        ("失业在家半年了", "创业就业"),
        ("给她送了米面油", "帮扶救助"),
    ],
)
def test_focus_wordings(nlp: NLP, text: str, expected: str) -> None:
    """Focus groups are found in their usual wordings."""
    assert expected in nlp.analyze(text, REF).focus
