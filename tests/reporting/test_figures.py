"""`bot.reporting.figures`: the quarterly figures of a scripted dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.domain.figures import QuarterFigures
from bot.domain.quarters import Quarter, quarter_label
from bot.nlp import NLP
from bot.reporting.export import figure_lines
from bot.reporting.figures import compile_figures, quarter_overview
from bot.reporting.key_terms import stopwords
from bot.reporting.text import TEXT_LIMIT, figures_text
from storage import repo
from storage.db import Database
from tests.factories import help_request
from tests.reporting.conftest import NOW, Q1
from tests.reporting.dataset import PHONE, TZ, at, build, unit


@pytest.fixture
def figures(compiled: QuarterFigures) -> dict[str, Any]:
    """Their JSON: what a submitted summary stores and the API answers."""
    return compiled.to_json()


def test_figures_are_json_and_name_the_quarter(figures: dict[str, Any]) -> None:
    """The figures survive a JSON round trip and carry unit, quarter and period."""
    assert json.loads(json.dumps(figures, ensure_ascii=False)) == figures
    assert figures["unit"] == "朝阳区"
    assert figures["quarter"] == "2026Q1"
    assert figures["period"] == "2026年第一季度"
    assert (figures["start"], figures["end"]) == ("2026-01-01", "2026-03-31")


def test_visits_count_the_subtree_in_the_quarter_only(figures: dict[str, Any]) -> None:
    """Visits of 朝阳区 and its streets dated in Q1: totals, forms, focus groups, people."""
    visits = figures["visits"]
    assert visits["total"] == 4
    assert visits["people"] == 9
    assert visits["by_form"] == {
        "一对一访谈": 1,
        "实地考察": 1,
        "座谈交流": 1,
        "结对帮扶": 0,
        "其他走访": 1,
    }
    assert visits["by_focus"] == {
        "单亲贫困母亲": 1,
        "特殊困难妇女": 1,
        "创业就业": 1,
        "参选参政": 0,
        "帮扶救助": 0,
    }


def test_needs_count_a_request_opened_from_a_visit_once(figures: dict[str, Any]) -> None:
    """Needs by category from visits and requests; a visit's own request is not counted twice."""
    needs = {n["category"]: (n["visits"], n["requests"], n["total"]) for n in figures["needs"]}
    assert needs == {
        "jobs": (3, 3, 5),
        "health": (1, 1, 2),
        "knowledge": (1, 1, 2),
        "relief": (1, 1, 2),
        "rights": (0, 1, 1),
        "other": (0, 1, 1),
    }
    assert [n["label"] for n in figures["needs"]][:2] == ["岗位", "健康"]


def test_requests_received_resolved_open_median_urgent(figures: dict[str, Any]) -> None:
    """Received and resolved in Q1, open at its end, median days to resolve, urgent count."""
    assert figures["requests"] == {
        "received": 7,
        "resolved": 4,
        "open": 3,
        "median_days_to_resolve": 7.5,
        "urgent": 1,
    }


def test_contact_point_coverage_of_the_units_cadres(figures: dict[str, Any]) -> None:
    """Points of 朝阳区's cadres, visited in Q1 per kind; another district's points left out."""
    coverage = figures["coverage"]
    assert coverage["holders"] == 1
    assert coverage["kinds"] == {
        "district": {"held": 1, "visited": 1},
        "street": {"held": 2, "visited": 1},
        "community": {"held": 1, "visited": 0},
        "household": {"held": 2, "visited": 0},
    }
    assert (coverage["held"], coverage["visited"], coverage["share"]) == (6, 2, 0.333)


def test_satisfaction_of_requests_resolved_in_the_quarter(figures: dict[str, Any]) -> None:
    """Ratings of the 4 requests resolved in Q1 (one unrated) and the satisfied share."""
    assert figures["satisfaction"] == {
        "satisfied": 2,
        "basic": 1,
        "unsatisfied": 0,
        "rated": 3,
        "unrated": 1,
        "satisfied_share": 0.667,
    }


def test_recurring_and_rising_categories_against_last_quarter(figures: dict[str, Any]) -> None:
    """Categories ranked by this quarter's count, then by their rise against 2025Q4."""
    ranked = [(r["category"], r["count"], r["previous"], r["change"]) for r in figures["problems"]["categories"]]  # fmt: skip
    assert ranked == [
        ("jobs", 5, 1, 4),
        ("knowledge", 2, 0, 2),
        ("relief", 2, 0, 2),
        ("health", 2, 1, 1),
        ("other", 1, 0, 1),
        ("rights", 1, 0, 1),
    ]


def test_key_terms_rise_against_last_quarter_without_noise(figures: dict[str, Any]) -> None:
    """找工作 tops the terms (5 texts, 1 last quarter); stopwords, pseudonyms and places are out."""
    terms = figures["problems"]["terms"]
    assert terms[0] == {"term": "找工作", "count": 5, "previous": 1, "change": 4}
    words = {t["term"] for t in terms}
    assert {"孩子", "技能", "离家近"} <= words
    assert not words & {"王某", "刘某", "社区", "情况", "朝阳区", "双井街道", "九龙社区"}
    assert all(len(w) >= 2 for w in words)
    assert len(terms) <= 10


def test_examples_mask_the_phone_and_keep_the_pseudonym(figures: dict[str, Any]) -> None:
    """Up to 3 example notes; the phone number is masked, the pseudonym 王某 kept."""
    examples = figures["examples"]
    assert len(examples) == 3
    first = examples[0]
    assert first["whom"] == "王某"
    assert PHONE not in json.dumps(figures)
    assert "138****5678" in first["notes"]
    assert [e["date"] for e in examples] == sorted(e["date"] for e in examples)


def test_a_unit_with_nothing_gives_zeros_and_no_median(database: Database, nlp: NLP) -> None:
    """An empty district: zero counts, None for the median and the shares, no examples."""
    with database.transaction() as session:
        empty = compile_figures(
            session, unit=unit(session, "延庆区"), quarter=Q1, nlp=nlp, tz=TZ, now=NOW
        )
    figures = empty.to_json()
    assert figures["visits"]["total"] == 0
    assert figures["requests"]["median_days_to_resolve"] is None
    assert figures["satisfaction"]["satisfied_share"] is None
    assert figures["coverage"]["share"] is None
    assert figures["problems"] == {"categories": [], "terms": []}
    assert figures["examples"] == []
    assert "延庆区妇联2026年第一季度妇情汇总" in figures_text(empty)


def test_quarter_boundaries_follow_the_time_zone(database: Database, nlp: NLP) -> None:
    """A request filed 2026-04-01 00:30 Shanghai (still March in UTC) belongs to Q2."""
    with database.transaction() as session:
        district = unit(session, "朝阳区")
        help_request(session, place="朝阳区", now=at(2026, 4, 1, 0).replace(minute=30))
        q1 = compile_figures(session, unit=district, quarter=Q1, nlp=nlp, tz=TZ, now=NOW)
        q2 = compile_figures(session, unit=district, quarter=Q1.next(), nlp=nlp, tz=TZ, now=NOW)
    assert q1.requests.received == 0
    assert q2.requests.received == 1


def test_figures_text_is_short_chinese_with_the_numbers(compiled: QuarterFigures) -> None:
    """The chat rendering: title, key numbers, masked example, within 1500 characters."""
    text = figures_text(compiled)
    assert len(text) <= TEXT_LIMIT
    assert text.startswith("朝阳区妇联2026年第一季度妇情汇总")
    for expected in ("走访 4 次，覆盖 9 人", "新收 7 件", "中位数 7.5 天", "2/6", "满意率 67%"):
        assert expected in text
    assert "岗位 5（↑4）" in text
    assert "找工作 5（↑4）" in text
    assert "138****5678" in text and PHONE not in text


def test_figures_text_stays_within_the_limit_for_long_notes(compiled: QuarterFigures) -> None:
    """Very long example notes are dropped from the chat text rather than overflowing."""
    long = [e.model_copy(update={"notes": "找工作" * 300}) for e in compiled.examples]
    text = figures_text(compiled.model_copy(update={"examples": long}))
    assert len(text) <= TEXT_LIMIT
    assert "典型记录" in text


def test_overview_uses_the_snapshot_once_submitted(database: Database, nlp: NLP) -> None:
    """A submitted unit shows its stored figures (not today's: the snapshot says 99 visits);
    others are compiled live and shown open."""
    with database.transaction() as session:
        data = build(session)
        report = repo.report_for(
            session, unit_id=data.district.id or 0, quarter="2026Q1", now=at(2026, 4, 3)
        )
        snapshot = compile_figures(session, unit=data.district, quarter=Q1, nlp=nlp, tz=TZ, now=NOW)
        stored = snapshot.model_copy(update={"visits": snapshot.visits.model_copy(update={"total": 99})})  # fmt: skip
        repo.submit_report(
            session,
            report=report,
            figures=stored.to_json(),
            remark="补充说明",
            by=data.leader.id,
            now=at(2026, 4, 3),
        )
        units = [data.district, unit(session, "海淀区")]
        found = quarter_overview(
            session, quarter=Q1, units=units, nlp=nlp, tz=TZ, due_days=10, now=at(2026, 4, 5)
        )
    assert found.due_date == "2026-04-10"
    chaoyang, haidian = found.units
    assert chaoyang.figures == stored and chaoyang.figures.visits.total == 99
    assert (chaoyang.status, chaoyang.review, chaoyang.remark) == ("submitted", "submitted", "补充说明")  # fmt: skip
    assert chaoyang.submitted_at == "2026-04-03T10:00:00+08:00"
    assert (haidian.status, haidian.review) == ("open", "open")
    assert haidian.figures.visits.total == 1


def test_stopwords_and_quarter_label() -> None:
    """The stopword file loads (comments skipped) and quarters read as 2026年第四季度."""
    words = stopwords()
    assert "情况" in words and not any(w.startswith("#") for w in words)
    assert quarter_label(Quarter.parse("2026Q4")) == "2026年第四季度"


def test_the_stopword_file_ships_with_the_package() -> None:
    """pyproject's package data includes bot/reporting/data (the image installs non-editable)."""
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    assert "reporting/data/*" in pyproject["tool"]["setuptools"]["package-data"]["bot"]


def test_the_summary_carries_the_units_assessment_row(database: Database, nlp: NLP) -> None:
    """统一考核 in the quarterly summary: 朝阳区's row counts the requests filed at it and below
    in the quarter — one accepted in time and resolved late, one never accepted with its
    deadline passed, one still within its deadlines — judged when the summary is compiled; the
    chat text, the file lines and the stored JSON carry it."""
    with database.transaction() as session:
        district = unit(session, "朝阳区")
        early = help_request(session, place="朝阳区/双井街道", now=at(2026, 2, 2))
        early.accept_due, early.accepted_at = at(2026, 2, 3), at(2026, 2, 2, 15)
        early.resolve_due, early.resolved_at, early.status = at(2026, 2, 20), at(2026, 2, 25), "resolved"  # fmt: skip
        early.rating = "satisfied"
        missed = help_request(session, place="朝阳区", now=at(2026, 3, 2))
        missed.accept_due, missed.resolve_due = at(2026, 3, 3), at(2026, 3, 20)
        fresh = help_request(session, place="朝阳区", now=at(2026, 3, 31))
        fresh.accept_due, fresh.resolve_due = at(2026, 4, 20), at(2026, 4, 30)
        help_request(session, place="海淀区", now=at(2026, 3, 2))  # another district
        for row in (early, missed, fresh):
            session.add(row)
        session.flush()
        figures = compile_figures(session, unit=district, quarter=Q1, nlp=nlp, tz=TZ, now=NOW)
    row = figures.assessment
    assert row is not None
    assert row.requests == 3
    assert row.accepted_on_time == 0.5  # early in time, missed late, fresh not judged yet
    assert row.resolved_on_time == 0.0  # early late, missed late (passed), fresh not yet
    assert row.median_accept_hours == 5.0 and row.satisfaction == 1.0
    assert "考核：求助数 3，按时受理率 50%，按时办结率 0%" in figures_text(figures)
    lines = [(section, item, value) for section, item, value, _p, _c in figure_lines(figures)]
    assert ("六、办理时效与考核", "按时受理率", "50%") in lines
    assert QuarterFigures.from_json(figures.to_json()) == figures


def test_problems_common_to_several_districts(database: Database, nlp: NLP) -> None:
    """The city's summary: jobs rose in 朝阳区 and 海淀区 at once (普遍性、倾向性) with the
    requests behind it; 保洁 recurs in both; each district has its row; a district's own
    summary compares its streets."""
    with database.transaction() as session:
        codes = [
            help_request(session, place=place, need=need, now=at(2026, 2, day)).code
            for place, need, day in (
                ("朝阳区/双井街道", "想找一份保洁的工作，离家近一点", 3),
                ("海淀区/学院路街道", "下岗了想做保洁，有没有培训", 4),
                ("海淀区/学院路街道", "想找保洁工作", 5),
            )
        ]
        help_request(session, place="丰台区", need="孩子生病了", categories=["health"], now=at(2026, 2, 6))  # fmt: skip
        city = repo.city_unit(session)
        figures = compile_figures(session, unit=city, quarter=Q1, nlp=nlp, tz=TZ, now=NOW)
        chaoyang = compile_figures(
            session, unit=unit(session, "朝阳区"), quarter=Q1, nlp=nlp, tz=TZ, now=NOW
        )
    assert figures.part == "district" and figures.parts is not None
    rows = {row.part: row for row in figures.parts}
    assert len(rows) == 16 and rows["海淀区"].requests == 2 and rows["延庆区"].requests == 0
    assert figures.common is not None
    [jobs] = [c for c in figures.common.categories if c.category == "jobs"]
    assert jobs.parts == ["朝阳区", "海淀区"] and jobs.count == 3 and jobs.previous == 0
    assert jobs.requests == codes
    assert "health" not in {c.category for c in figures.common.categories}  # one district only
    [cleaning] = [t for t in figures.common.terms if t.term == "保洁"]
    assert cleaning.parts == ["朝阳区", "海淀区"] and cleaning.count == 3
    assert not [t for t in figures.common.terms if "区" in t.term or "某" in t.term]
    lines = [(s, item, where) for s, item, _v, _p, where in figure_lines(figures)]
    assert ("多个区共同的问题", "岗位", "在2个区上升：朝阳区、海淀区") in lines
    assert chaoyang.part == "street" and chaoyang.parts is not None
    assert "双井街道" in {row.part for row in chaoyang.parts}


def test_key_terms_are_known_words_only(nlp: NLP) -> None:
    """Pieces jieba's HMM glues together (想先, 多办) and residents' names are no key terms;
    domain words (育婴师, 保洁) and dictionary words are; each text is read once."""
    from bot.reporting.key_terms import Terms

    terms = Terms(nlp)
    found = terms.of("刘晓红说想先学点育婴师技能，希望社区多办保洁培训")
    assert {"育婴师", "保洁", "培训"} <= found
    assert not found & {"想先", "多办", "刘晓红"}
    assert terms.counts(["想做保洁", "保洁工作", "找工作"])["保洁"] == 2
