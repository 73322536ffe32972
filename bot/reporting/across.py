"""普遍性、倾向性: what the parts of a unit have in common — the city's districts, a district's
streets — for the quarterly summary.

- `part_rows`: each part's visits, people, requests, urgent ones, resolved on time (the
  assessment's rule), satisfaction and contact-point coverage, side by side.
- `common_problems`:
  - a **category rising in several parts at once** (普遍性 and 倾向性): more this quarter than
    the quarter before in at least `MIN_PARTS` parts; with those parts, the counts (all parts)
    and the codes of the requests behind it;
  - a **key term recurring across parts**: a key term (`bot.reporting.key_terms`: jieba words
    minus stop words, place names, pseudonyms and residents' names) found in the texts of at
    least `MIN_PARTS` parts; ranked by how many parts, then how many texts; with the requests.

A visit or request belongs to the part its place names: the district (for the city) or the
street (for a district). Counting is plain and shown with its numbers, so a reader can check it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot import texts
from bot.domain.figures import CommonCategory, CommonFigures, CommonTerm
from bot.reporting.key_terms import Terms
from storage.models import HelpRequest, OrgUnit, Visit

MIN_PARTS = 2
TOP_COMMON = 10
REQUESTS_SHOWN = 5


def part_field(unit: OrgUnit) -> str:
    """Which place field names a part of `unit`: 'district' for the city, else 'street'."""
    return "district" if unit.parent_id is None else "street"


@dataclass(frozen=True)
class Quarterly:
    """The texts of one part over the quarter and the one before."""

    visits: list[Visit]
    requests: list[HelpRequest]
    old_visits: list[Visit]
    old_requests: list[HelpRequest]


def split(
    field: str,
    parts: Sequence[str],
    visits: Sequence[Visit],
    requests: Sequence[HelpRequest],
    old_visits: Sequence[Visit],
    old_requests: Sequence[HelpRequest],
) -> dict[str, Quarterly]:
    """The visits and requests of each part (by the place field `field`)."""
    found = {name: Quarterly([], [], [], []) for name in parts}
    for rows, attr in (
        (visits, "visits"),
        (requests, "requests"),
        (old_visits, "old_visits"),
        (old_requests, "old_requests"),
    ):
        for row in rows:
            part = found.get(getattr(row, field) or "")
            if part is not None:
                getattr(part, attr).append(row)
    return found


def need_totals(visits: Sequence[Visit], requests: Sequence[HelpRequest]) -> Counter[str]:
    """Need categories found in visits and requests, a request opened from a visit counted once
    (with its visit): the summary's 需求 totals."""
    own = Counter(c for r in requests if r.source != "visit" for c in set(r.categories))
    return Counter(c for v in visits for c in set(v.categories)) + own


def _codes(requests: Sequence[HelpRequest], category: str) -> list[str]:
    return [r.code for r in requests if category in r.categories][:REQUESTS_SHOWN]


def common_problems(by_part: dict[str, Quarterly], key_terms: Terms) -> CommonFigures:
    """The categories rising and the key terms recurring in at least MIN_PARTS parts."""
    rising: dict[str, list[str]] = defaultdict(list)
    now_total: Counter[str] = Counter()
    before_total: Counter[str] = Counter()
    for name, part in by_part.items():
        now = need_totals(part.visits, part.requests)
        before = need_totals(part.old_visits, part.old_requests)
        now_total += now
        before_total += before
        for category in now:
            if now[category] > before[category]:
                rising[category].append(name)
    all_requests = [r for part in by_part.values() for r in part.requests]
    categories = [
        CommonCategory(
            category=category,
            label=texts.CATEGORY_LABELS.get(category, category),
            parts=names,
            count=now_total[category],
            previous=before_total[category],
            requests=_codes(all_requests, category),
        )
        for category, names in sorted(rising.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if len(names) >= MIN_PARTS
    ]
    term_parts: dict[str, list[str]] = defaultdict(list)
    term_count: Counter[str] = Counter()
    term_requests: dict[str, list[str]] = defaultdict(list)
    for name, part in by_part.items():
        seen: set[str] = set()
        docs = [(v.notes, None) for v in part.visits] + [
            (r.need, r.code) for r in part.requests if r.source != "visit"
        ]
        for text, code in docs:
            words = key_terms.of(text)
            term_count.update(words)
            seen |= words
            if code is not None:
                for word in words:
                    if len(term_requests[word]) < REQUESTS_SHOWN:
                        term_requests[word].append(code)
        for word in seen:
            term_parts[word].append(name)
    recurring = [t for t, names in term_parts.items() if len(names) >= MIN_PARTS]
    recurring.sort(key=lambda t: (-len(term_parts[t]), -term_count[t], t))
    terms = [
        CommonTerm(
            term=t, parts=term_parts[t], count=term_count[t], requests=term_requests.get(t, [])
        )
        for t in recurring[:TOP_COMMON]
    ]
    return CommonFigures(categories=categories, terms=terms)
