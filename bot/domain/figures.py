"""The quarterly summary's figures as typed models (每季度汇总), and a quarter's overview.

`bot.reporting.figures.compile_figures` builds a `QuarterFigures` from the data; the chat
(`bot.reporting.text`), the files (`bot.reporting.export`), the console and the staff API read
its attributes. Its JSON (`to_json`) is what a submitted summary stores in
`QuarterlyReport.figures` and what the API answers: the shape of `FIGURES_VERSION` 1, field for
field, so rows stored before these models existed load with `from_json`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

FIGURES_VERSION = 1
RATINGS = ("satisfied", "basic", "unsatisfied")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class VisitFigures(_Model):
    """Visits: how many, people reached, by form and by focus group (labels → counts)."""

    total: int
    people: int
    by_form: dict[str, int]
    by_focus: dict[str, int]


class NeedFigures(_Model):
    """One need category: found in visits, in requests, and in all (a request from a visit
    counted once)."""

    category: str
    label: str
    visits: int
    requests: int
    total: int


class RequestFigures(_Model):
    """Requests received, resolved in the quarter, open at its end, median days, urgent."""

    received: int
    resolved: int
    open: int
    median_days_to_resolve: float | None
    urgent: int


class KindCoverage(_Model):
    """Contact points of one kind: how many held, how many visited in the quarter."""

    held: int
    visited: int


class CoverageFigures(_Model):
    """The unit's cadres' contact points: holders, per kind, overall and the visited share."""

    holders: int
    kinds: dict[str, KindCoverage]
    held: int
    visited: int
    share: float | None


class SatisfactionFigures(_Model):
    """Ratings of the requests resolved in the quarter."""

    satisfied: int
    basic: int
    unsatisfied: int
    rated: int
    unrated: int
    satisfied_share: float | None

    def count(self, rating: str) -> int:
        """The count of a rating ('satisfied', 'basic', 'unsatisfied') or of 'unrated'."""
        counts = {
            "satisfied": self.satisfied,
            "basic": self.basic,
            "unsatisfied": self.unsatisfied,
            "unrated": self.unrated,
        }
        return counts[rating]


class CategoryChange(_Model):
    """A need category's count this quarter against the previous one."""

    category: str
    count: int
    previous: int
    change: int
    label: str


class TermChange(_Model):
    """A key term's count this quarter against the previous one."""

    term: str
    count: int
    previous: int
    change: int


class ProblemFigures(_Model):
    """Recurring and rising problems: need categories and key terms, ranked."""

    categories: list[CategoryChange]
    terms: list[TermChange]


class Example(_Model):
    """An example visit note (phone and ID numbers masked, the pseudonym kept)."""

    date: str
    place: str
    form: str
    whom: str
    people: int
    focus: list[str]
    categories: list[str]
    notes: str


class AssessmentFigures(_Model):
    """统一考核: the unit's row for the quarter — its requests and hand-offs, everything below
    it counted as its own (`bot.domain.assessment.row_of`; shares 0–1, None: nothing judged)."""

    requests: int
    accepted_on_time: float | None
    resolved_on_time: float | None
    median_accept_hours: float | None
    median_resolve_days: float | None
    satisfaction: float | None
    reopened: int
    handoffs: int
    handoffs_in_time: float | None

    @classmethod
    def of(cls, row: AssessmentFigures) -> AssessmentFigures:
        """Only the figures of an assessment row (`bot.domain.assessment.UnitRow`)."""
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


SHARES = ("accepted_on_time", "resolved_on_time", "satisfaction", "handoffs_in_time")


class PartRow(_Model):
    """One part of the summarised unit (a district of the city, a street of a district): its
    visits, people reached, requests received, urgent ones, the share resolved on time, the
    satisfied share and the contact points' coverage (shares 0–1, None: nothing to judge)."""

    part: str
    visits: int
    people: int
    requests: int
    urgent: int
    resolved_on_time: float | None
    satisfaction: float | None
    coverage: float | None


class CommonCategory(_Model):
    """普遍性、倾向性: a need category that rose in several parts at once — in which, how many
    now and the quarter before (all parts), and the codes of requests behind it."""

    category: str
    label: str
    parts: list[str]
    count: int
    previous: int
    requests: list[str]


class CommonTerm(_Model):
    """A key term that recurs in several parts: in which, in how many texts, and requests."""

    term: str
    parts: list[str]
    count: int
    requests: list[str]


class CommonFigures(_Model):
    """The problems common to several parts (`bot.reporting.across`)."""

    categories: list[CommonCategory]
    terms: list[CommonTerm]


class QuarterFigures(_Model):
    """A district-level unit's figures for one quarter (dates as ISO strings)."""

    version: int = FIGURES_VERSION
    unit: str
    quarter: str
    period: str
    start: str
    end: str
    visits: VisitFigures
    needs: list[NeedFigures]
    requests: RequestFigures
    coverage: CoverageFigures
    satisfaction: SatisfactionFigures
    problems: ProblemFigures
    examples: list[Example]
    # Absent from summaries stored before these existed (they load as None).
    assessment: AssessmentFigures | None = None
    parts: list[PartRow] | None = None  # its districts (the city) or streets (a district)
    part: str | None = None  # what a part is: "district" or "street"
    common: CommonFigures | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QuarterFigures:
        """Figures from their stored JSON (a submitted summary's snapshot)."""
        return cls.model_validate(data)

    def to_json(self) -> dict[str, Any]:
        """The stored and answered JSON (a summary stored without an assessment row writes
        back as it was)."""
        optional = ("assessment", "parts", "part", "common")
        absent = {k for k in optional if getattr(self, k) is None}
        return self.model_dump(mode="json", exclude=absent or None)


class UnitSummary(_Model):
    """One unit's entry of an overview: due date, shown status, stored review status, the
    review's comment, the remark and submission time, and the figures."""

    unit: str
    due_date: str
    status: str
    review: str
    review_comment: str | None
    remark: str | None
    submitted_at: str | None
    figures: QuarterFigures


class QuarterOverview(_Model):
    """The quarter, its due date, and the summaries of the units asked for."""

    quarter: str
    due_date: str
    units: list[UnitSummary]

    def to_json(self) -> dict[str, Any]:
        """The API's and the CLI's JSON (each unit's figures as `QuarterFigures.to_json`)."""
        found = self.model_dump(mode="json")
        for entry, unit in zip(found["units"], self.units, strict=True):
            entry["figures"] = unit.figures.to_json()
        return found
