"""The figures of a district-level unit's quarterly summary (每季度汇总), compiled from the data.

`compile_figures` counts the unit and every unit below it over one quarter (dates in the
federation's time zone) and returns a typed `bot.domain.figures.QuarterFigures` (its JSON is the
snapshot stored when a summary is submitted), rendered by `bot.reporting.text.figures_text`
(chat), `bot.reporting.export` (CSV, XLSX, DOCX) and the API. The models live in the domain
because every layer reads them (chat flow, console, API, storage's JSON); compiling them needs
the NLP key terms and the data, so it stays here.

- visits: total, by form, by focus group, people reached;
- needs: categories found in visits and in requests received (a request opened from a visit is
  counted once, with its visit);
- requests: received and resolved in the quarter, open at its end, median days to resolve,
  urgent (crisis) ones;
- contact points of the unit's cadres: held and visited this quarter, per kind and overall;
- satisfaction of the requests resolved in the quarter;
- recurring and rising problems (普遍性、倾向性的问题): the need categories and the key terms of
  visit notes and request texts (`bot.reporting.key_terms`: jieba words of 2+ characters,
  minus `data/stopwords.txt`, pseudonyms and place names), each counted once per text, against
  the previous quarter;
- up to three example visit notes, phone and ID numbers masked, the pseudonym kept.

`quarter_overview` adds each unit's due date and status (`QuarterOverview`): the API's and the
CLI's JSON.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.domain import assessment, contacts, deadlines
from bot.domain.figures import (
    AssessmentFigures,
    CategoryChange,
    CoverageFigures,
    Example,
    KindCoverage,
    NeedFigures,
    PartRow,
    ProblemFigures,
    QuarterFigures,
    QuarterOverview,
    RequestFigures,
    SatisfactionFigures,
    TermChange,
    UnitSummary,
    VisitFigures,
)
from bot.domain.quarters import (
    CHINESE_HOLIDAYS,
    HolidayCalendar,
    Quarter,
    due_date,
    quarter_label,
    summary_due,
)
from bot.domain.reviews import SUBMITTED_STATUSES, report_status
from bot.nlp import NLP
from bot.nlp.forms import FOCUS, FORMS
from bot.nlp.names import pseudonym, redact
from bot.reporting import across
from bot.reporting.key_terms import Terms, problem_texts
from storage import repo
from storage.models import HelpRequest, OrgUnit, QuarterlyReport, Visit

RATINGS = ("satisfied", "basic", "unsatisfied")
TOP_TERMS = 10
EXAMPLES = 3
EXAMPLE_CHARS = 160


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The start of `day` in `tz`, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _category_order(codes: Iterable[str]) -> list[str]:
    known = list(texts.CATEGORY_LABELS)
    return sorted(set(codes), key=lambda c: (known.index(c) if c in known else len(known), c))


@dataclass(frozen=True)
class _Needs:
    """Need categories counted in visits, in requests, and in all (a request opened from a
    visit counted once, with its visit)."""

    visits: Counter[str]
    requests: Counter[str]
    total: Counter[str]


def _needs(visits: Sequence[Visit], requests: Sequence[HelpRequest]) -> _Needs:
    in_visits = Counter(c for v in visits for c in set(v.categories))
    in_requests = Counter(c for r in requests for c in set(r.categories))
    return _Needs(
        visits=in_visits, requests=in_requests, total=across.need_totals(visits, requests)
    )


def _ranked(now: Counter[str], before: Counter[str]) -> list[tuple[str, int, int]]:
    """(key, count, previous) by count, then by rise, then by key."""
    keys = sorted(
        (k for k in set(now) | set(before) if now[k] or before[k]),
        key=lambda k: (-now[k], before[k] - now[k], k),
    )
    return [(k, now[k], before[k]) for k in keys]


def _form(visit: Visit) -> str:
    return visit.visit_form or texts.t("visit.other_form")


def _visits(visits: Sequence[Visit]) -> VisitFigures:
    forms = Counter(_form(v) for v in visits)
    focus = Counter(f for v in visits for f in set(v.focus))
    order = [*FORMS, texts.t("visit.other_form")]
    return VisitFigures(
        total=len(visits),
        people=sum(v.people for v in visits),
        by_form={f: forms[f] for f in [*order, *sorted(set(forms) - set(order))]},
        by_focus={f: focus[f] for f in [*FOCUS, *sorted(set(focus) - set(FOCUS))]},
    )


def _requests(
    requests: Sequence[HelpRequest], start: datetime, until: datetime
) -> tuple[RequestFigures, list[HelpRequest]]:
    received = [r for r in requests if start <= repo.as_utc(r.created_at) < until]
    resolved = [
        r
        for r in requests
        if r.resolved_at is not None and start <= repo.as_utc(r.resolved_at) < until
    ]
    still_open = [
        r
        for r in requests
        if repo.as_utc(r.created_at) < until
        and not (r.resolved_at is not None and repo.as_utc(r.resolved_at) < until)
        and not (r.status == "cancelled" and repo.as_utc(r.updated_at) < until)
    ]
    days = [
        (repo.as_utc(r.resolved_at) - repo.as_utc(r.created_at)) / timedelta(days=1)
        for r in resolved
        if r.resolved_at is not None
    ]
    figures = RequestFigures(
        received=len(received),
        resolved=len(resolved),
        open=len(still_open),
        median_days_to_resolve=round(statistics.median(days), 1) if days else None,
        urgent=sum(1 for r in received if r.crisis),
    )
    return figures, resolved


def _satisfaction(resolved: Sequence[HelpRequest]) -> SatisfactionFigures:
    rates = Counter(r.rating for r in resolved if r.rating in RATINGS)
    rated = sum(rates.values())
    return SatisfactionFigures(
        satisfied=rates["satisfied"],
        basic=rates["basic"],
        unsatisfied=rates["unsatisfied"],
        rated=rated,
        unrated=len(resolved) - rated,
        satisfied_share=_share(rates["satisfied"], rated),
    )


def _coverage(points: Sequence[contacts.PointCoverage]) -> CoverageFigures:
    """Held and visited per kind over `contacts.coverage`'s points (the one visited rule)."""
    kinds = {kind: {"held": 0, "visited": 0} for kind in contacts.KINDS}
    for found in points:
        row = kinds.setdefault(found.point.kind, {"held": 0, "visited": 0})
        row["held"] += 1
        row["visited"] += found.visited
    held = sum(k["held"] for k in kinds.values())
    visited = sum(k["visited"] for k in kinds.values())
    return CoverageFigures(
        holders=len({p.point.holder_id for p in points}),
        kinds={kind: KindCoverage(**row) for kind, row in kinds.items()},
        held=held,
        visited=visited,
        share=_share(visited, held),
    )


def _examples(visits: Sequence[Visit], nlp: NLP, keep: Sequence[str]) -> list[Example]:
    """A few example notes: phones masked, residents' names as pseudonyms (staff's kept)."""
    pool = sorted((v for v in visits if v.notes.strip()), key=lambda v: (-len(v.notes), v.id or 0))
    chosen: list[Visit] = []
    seen: set[str | None] = set()
    for visit in pool:  # one per main need first, then the longest notes
        if visit.primary not in seen:
            chosen.append(visit)
            seen.add(visit.primary)
    chosen = (chosen + [v for v in pool if v not in chosen])[:EXAMPLES]
    chosen.sort(key=lambda v: (v.date, v.id or 0))
    out = []
    for visit in chosen:
        notes = redact(visit.notes.strip(), nlp.person_names, keep=keep)
        if len(notes) > EXAMPLE_CHARS:
            notes = notes[: EXAMPLE_CHARS - 1] + "…"
        out.append(
            Example(
                date=visit.date.isoformat(),
                place="".join(p for p in (visit.street, visit.community) if p)
                or visit.district
                or texts.t("place.unknown"),
                form=_form(visit),
                whom=pseudonym(visit.whom),
                people=visit.people,
                focus=list(visit.focus),
                categories=list(visit.categories),
                notes=notes,
            )
        )
    return out


Facts = tuple[list[assessment.RequestFacts], list[assessment.HandoffFacts]]


def _assessment(
    unit: OrgUnit, facts: Facts, now: datetime, answer_within: timedelta
) -> AssessmentFigures:
    """The unit's 统一考核 row over these facts, judged at `now`."""
    requests, handoffs = facts
    row = assessment.row_of(unit.id or 0, requests, handoffs, now=now, answer_within=answer_within)
    return AssessmentFigures.of(row)


def staff_names(session: Session, unit_ids: Sequence[int]) -> list[str]:
    """The names of the cadres of these units (no secret in their own reports)."""
    names = {
        user.name
        for cadres in repo.cadres_by_unit(session, unit_ids=list(unit_ids)).values()
        for user in cadres
        if user.name
    }
    return sorted(names)


def _parts(
    session: Session,
    unit: OrgUnit,
    facts: Facts,
    by_part: dict[str, across.Quarterly],
    children: Sequence[OrgUnit],
    resolved: Sequence[HelpRequest],
    points: Sequence[contacts.PointCoverage],
    judging: tuple[datetime, timedelta],
) -> list[PartRow]:
    """Each part's row (`bot.reporting.across`), in the tree's order, by the unit's own rules
    over what the unit's figures already read: on time from its assessment facts filed at the
    part and below, satisfaction of its requests resolved in the quarter, coverage of its
    holders' points."""
    now, answer_within = judging
    field = across.part_field(unit)
    rows = []
    for child in children:
        part = by_part[child.name]
        below = set(repo.units_below(session, unit=child))
        mine = (
            [r for r in facts[0] if r.place_id in below],
            [h for h in facts[1] if h.place_id in below],
        )
        judged = _assessment(child, mine, now, answer_within)
        done = [r for r in resolved if getattr(r, field) == child.name]
        rows.append(
            PartRow(
                part=child.name,
                visits=len(part.visits),
                people=sum(v.people for v in part.visits),
                requests=len(part.requests),
                urgent=sum(1 for r in part.requests if r.crisis),
                resolved_on_time=judged.resolved_on_time,
                satisfaction=_satisfaction(done).satisfied_share,
                coverage=_coverage([p for p in points if p.unit.id in below]).share,
            )
        )
    return rows


def compile_figures(
    session: Session,
    *,
    unit: OrgUnit,
    quarter: Quarter,
    nlp: NLP,
    tz: ZoneInfo,
    now: datetime,
    answer_within: timedelta = deadlines.DEFAULT_LIMITS.answer_within,
) -> QuarterFigures:
    """The figures of `unit` and the units below it for `quarter` (dates in `tz`); deadlines
    and hand-offs are judged as they stand at `now` (the assessment's row)."""
    unit_ids = repo.units_below(session, unit=unit)
    before = quarter.previous()
    since = local_midnight(before.start, tz)
    start = local_midnight(quarter.start, tz)
    until = local_midnight(quarter.end + timedelta(days=1), tz)
    all_visits = repo.visits_in(session, unit_ids=unit_ids, start=before.start, end=quarter.end)
    visits = [v for v in all_visits if v.date >= quarter.start]
    old_visits = [v for v in all_visits if v.date < quarter.start]
    requests = repo.requests_touching(session, unit_ids=unit_ids, since=since, until=until)
    received = [r for r in requests if start <= repo.as_utc(r.created_at) < until]
    old_received = [r for r in requests if since <= repo.as_utc(r.created_at) < start]
    request_figures, resolved = _requests(requests, start, until)
    children = repo.children_of(session, unit=unit)
    facts = assessment.gather(session, since=start, until=until, unit_ids=unit_ids)
    points = contacts.coverage(session, unit_ids=unit_ids, start=quarter.start, end=quarter.end)
    by_part = across.split(
        across.part_field(unit),
        [c.name for c in children],
        visits,
        received,
        old_visits,
        old_received,
    )
    needs = _needs(visits, received)
    old_needs = _needs(old_visits, old_received)
    key_terms = Terms(nlp)
    terms = [
        TermChange(term=term, count=count, previous=previous, change=count - previous)
        for term, count, previous in _ranked(
            key_terms.counts(problem_texts(visits, received)),
            key_terms.counts(problem_texts(old_visits, old_received)),
        )
    ]
    categories = [
        CategoryChange(
            category=code,
            count=count,
            previous=previous,
            change=count - previous,
            label=texts.CATEGORY_LABELS.get(code, code),
        )
        for code, count, previous in _ranked(needs.total, old_needs.total)
    ]
    return QuarterFigures(
        unit=unit.name,
        quarter=str(quarter),
        period=quarter_label(quarter),
        start=quarter.start.isoformat(),
        end=quarter.end.isoformat(),
        visits=_visits(visits),
        needs=[
            NeedFigures(
                category=code,
                label=texts.CATEGORY_LABELS.get(code, code),
                visits=needs.visits[code],
                requests=needs.requests[code],
                total=needs.total[code],
            )
            for code in _category_order([*texts.CATEGORY_LABELS, *needs.requests, *needs.total])
        ],
        requests=request_figures,
        coverage=_coverage(points),
        satisfaction=_satisfaction(resolved),
        problems=ProblemFigures(categories=categories, terms=terms[:TOP_TERMS]),
        examples=_examples(visits, nlp, staff_names(session, unit_ids)),
        assessment=_assessment(unit, facts, now, answer_within),
        parts=_parts(
            session, unit, facts, by_part, children, resolved, points, (now, answer_within)
        ),
        part=across.part_field(unit),
        common=across.common_problems(by_part, key_terms),
    )


def unit_summary(
    session: Session,
    *,
    unit: OrgUnit,
    quarter: Quarter,
    report: QuarterlyReport | None,
    due: date,
    now: datetime,
    nlp: NLP,
    tz: ZoneInfo,
    answer_within: timedelta = deadlines.DEFAULT_LIMITS.answer_within,
) -> UnitSummary:
    """One unit's entry: due date, shown status (at `now`), raw review status, and its figures
    (the stored snapshot once submitted or accepted, else compiled live at `now`)."""
    raw = report.status if report is not None else "open"
    stored = report.figures if report is not None and raw in SUBMITTED_STATUSES else None
    submitted = report.submitted_at if report is not None else None
    return UnitSummary(
        unit=unit.name,
        due_date=due.isoformat(),
        status=report_status(stored=raw, due=due, today=now.astimezone(tz).date()),
        review=raw,
        review_comment=report.review_comment if report is not None else None,
        remark=report.remark if report is not None else None,
        submitted_at=(
            repo.as_utc(submitted).astimezone(tz).isoformat(timespec="seconds")
            if submitted is not None
            else None
        ),
        figures=(
            QuarterFigures.from_json(stored)
            if stored
            else compile_figures(
                session,
                unit=unit,
                quarter=quarter,
                nlp=nlp,
                tz=tz,
                now=now,
                answer_within=answer_within,
            )
        ),
    )


def quarter_overview(
    session: Session,
    *,
    quarter: Quarter,
    units: Sequence[OrgUnit],
    nlp: NLP,
    tz: ZoneInfo,
    due_days: int,
    now: datetime,
    calendar: HolidayCalendar = CHINESE_HOLIDAYS,
    answer_within: timedelta = deadlines.DEFAULT_LIMITS.answer_within,
) -> QuarterOverview:
    """The quarter, its due date and `unit_summary` of each of these district-level units."""
    overrides = repo.due_date_overrides(session)
    due = due_date(quarter, days=due_days, overrides=overrides, calendar=calendar)
    reports = repo.reports_of_quarter(session, quarter=str(quarter))
    return QuarterOverview(
        quarter=str(quarter),
        due_date=due.isoformat(),
        units=[
            unit_summary(
                session,
                unit=unit,
                quarter=quarter,
                report=reports.get(unit.id or 0),
                due=summary_due(due, city=unit.parent_id is None, calendar=calendar),
                now=now,
                nlp=nlp,
                tz=tz,
                answer_within=answer_within,
            )
            for unit in units
        ],
    )
