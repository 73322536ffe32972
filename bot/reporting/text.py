"""The figures in words: changes and shares, an example's head line, and the short Chinese
rendering of the figures for chat (`figures_text`). The quarter's and the summary's titles are
`bot.domain.quarters.quarter_label` and `report_title`.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot import texts
from bot.domain.figures import SHARES, AssessmentFigures, Example, QuarterFigures
from bot.domain.quarters import Quarter, report_title

TEXT_LIMIT = 1500


def _counts(pairs: Iterable[tuple[str, int]]) -> str:
    shown = [f"{label} {n}" for label, n in pairs if n]
    return "、".join(shown) or texts.t("report.none")


def change_text(change: int) -> str:
    """'↑2', '↓1' or '持平'."""
    if change > 0:
        return texts.t("report.change.up", n=change)
    if change < 0:
        return texts.t("report.change.down", n=-change)
    return texts.t("report.change.same")


def percent(share: float | None) -> str:
    """'83%', or '—' when there is nothing to divide."""
    return f"{round(share * 100)}%" if share is not None else texts.t("report.na")


def assessment_items(row: AssessmentFigures) -> list[tuple[str, str, object]]:
    """统一考核 as (field, label, shown value): shares in percent, medians as numbers, '—' for
    nothing judged. The console's assessment page and the quarterly summary show these."""
    items: list[tuple[str, str, object]] = []
    for name in AssessmentFigures.model_fields:
        value = getattr(row, name)
        if name in SHARES:
            shown: object = percent(value)
        else:
            shown = texts.t("report.na") if value is None else value
        items.append((name, texts.t("console.col." + name), shown))
    return items


def example_head(example: Example) -> str:
    """'2026-02-03｜双井街道九龙社区｜一对一访谈｜王某'."""
    return texts.t(
        "report.example",
        date=example.date,
        place=example.place,
        form=example.form,
        whom=example.whom,
    )


def figures_text(figures: QuarterFigures) -> str:
    """A short Chinese rendering of the figures for chat (at most 1500 characters)."""
    quarter = Quarter.parse(figures.quarter)
    visits, requests = figures.visits, figures.requests
    coverage, rates = figures.coverage, figures.satisfaction
    median = requests.median_days_to_resolve
    lines = [
        report_title(figures.unit, quarter),
        texts.t("report.range", start=figures.start, end=figures.end),
        texts.t(
            "report.text.visits",
            total=visits.total,
            people=visits.people,
            forms=_counts(visits.by_form.items()),
        ),
        texts.t("report.text.focus", focus=_counts(visits.by_focus.items())),
        texts.t("report.text.needs", needs=_counts((n.label, n.total) for n in figures.needs)),
        texts.t(
            "report.text.requests",
            received=requests.received,
            resolved=requests.resolved,
            open=requests.open,
            urgent=requests.urgent,
            median=median if median is not None else texts.t("report.na"),
        ),
        texts.t(
            "report.text.coverage",
            visited=coverage.visited,
            held=coverage.held,
            kinds="、".join(
                f"{texts.t('report.kind.' + kind)} {row.visited}/{row.held}"
                for kind, row in coverage.kinds.items()
                if row.held and texts.has("report.kind." + kind)
            )
            or texts.t("report.none"),
        ),
        texts.t(
            "report.text.satisfaction",
            satisfied=rates.satisfied,
            basic=rates.basic,
            unsatisfied=rates.unsatisfied,
            share=percent(rates.satisfied_share),
        ),
        *(
            [
                texts.t(
                    "report.text.assessment",
                    items="，".join(
                        f"{label} {value}"
                        for _name, label, value in assessment_items(figures.assessment)
                    ),
                )
            ]
            if figures.assessment is not None
            else []
        ),
        texts.t(
            "report.text.problems",
            categories="、".join(
                f"{row.label} {row.count}（{change_text(row.change)}）"
                for row in figures.problems.categories[:5]
                if row.count
            )
            or texts.t("report.none"),
        ),
        texts.t(
            "report.text.terms",
            terms="、".join(
                f"{row.term} {row.count}（{change_text(row.change)}）"
                for row in figures.problems.terms[:8]
                if row.count
            )
            or texts.t("report.none"),
        ),
    ]
    text = "\n".join(lines)
    if figures.examples:
        text += "\n" + texts.t("report.text.examples")
        for n, example in enumerate(figures.examples, start=1):
            line = f"\n{n}. {example_head(example)}：{example.notes}"
            if len(text) + len(line) > TEXT_LIMIT:
                break
            text += line
    return text[:TEXT_LIMIT]
