"""Staff correcting a help request's labels, and how the model did on the corrections.

A correction sets the request's categories (TAXONOMY codes, the primary first) and/or its
crisis flag, records a `relabelled` event, and keeps a labelled example (`LabelCorrection`):
the need text the model read (numbers masked), what the request was filed with (the model's
reading, as she confirmed it in chat; for a request corrected before, what its first correction
found), and what staff say. `fuqing nlp train` retrains on these (bot/nlp/learn.py); erasing her
data deletes them (storage.repo.erase_resident).

Who: console staff, on the requests of their units (`requests.visible`: another unit's request
is not found). Refused: no category, an unknown one, `other` beside another (it stands alone),
nothing changed, and a request whose words were erased (nothing left to learn from).

Changing the crisis flag does not open or close an urgent case's alerts (bot/domain/urgent.py):
it relabels the request, so the queue's urgent marks follow it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot import texts
from bot.domain.errors import Conflict, Forbidden, Invalid
from bot.domain.requests import Actor, visible
from bot.nlp import mask_pii
from bot.nlp.categories import CATEGORIES, Category
from storage import repo
from storage.models import HelpRequest, LabelCorrection

#: how many of the latest corrections the console's figure reads
RECENT = 100


@dataclass(frozen=True)
class Corrected:
    """What a correction did: the request as it is now and the stored example."""

    request: HelpRequest
    correction: LabelCorrection


def valid_categories(values: Sequence[str]) -> tuple[str, ...]:
    """Categories as staff gave them, checked: known codes, at least one, `other` alone; the
    first is the primary, repeats dropped."""
    found: list[str] = []
    for value in values:
        code = value.strip()
        if code not in CATEGORIES:
            raise Invalid("labels.unknown", category=code)
        if code not in found:
            found.append(code)
    if not found:
        raise Invalid("labels.empty")
    if Category.OTHER in found and len(found) > 1:
        raise Invalid("labels.other_alone")
    return tuple(found)


def correct(
    session: Session,
    *,
    code: str,
    actor: Actor,
    staff_id: int,
    categories: Sequence[str] | None,
    crisis: bool | None,
    now: datetime,
) -> Corrected:
    """Correct request `code`'s categories (None: kept) and/or crisis flag (None: kept) as
    console staff member `staff_id`; raises NotFound (not in her units), Forbidden (not staff),
    Invalid (bad categories, nothing changed) or Conflict (her words were erased)."""
    request, roles = visible(session, code=code, actor=actor)
    if "staff" not in roles:
        raise Forbidden("labels.staff_only")
    if request.requester_id is None and request.need == texts.t("delete.placeholder"):
        raise Conflict("labels.erased", code=request.code)
    new_categories = valid_categories(categories) if categories is not None else None
    before = (tuple(request.categories), request.crisis)
    after = (
        new_categories if new_categories is not None else before[0],
        crisis if crisis is not None else before[1],
    )
    if after == before:
        raise Invalid("labels.unchanged")
    first = repo.first_correction_of(session, request_id=request.id or 0)
    model = (tuple(first.model_categories), first.model_crisis) if first else before
    note = texts.t(
        "labels.note",
        before=_label(*before),
        after=_label(*after),
    ) + texts.t("console.by", username=actor.username or "")
    repo.set_labels(
        session, request=request, categories=after[0], crisis=after[1], note=note, now=now
    )
    row = repo.add_correction(
        session,
        request=request,
        staff_id=staff_id,
        text=mask_pii(request.need),
        model_categories=model[0],
        model_crisis=model[1],
        staff_categories=after[0],
        staff_crisis=after[1],
        now=now,
    )
    return Corrected(request, row)


def _label(categories: Sequence[str], crisis: bool) -> str:
    """'岗位、知识' or '岗位（紧急）'."""
    words = texts.category_labels(tuple(categories))
    return words + texts.t("labels.urgent") if crisis else words


# ----------------------------------------------------------------------------- the figure


@dataclass(frozen=True)
class Agreement:
    """How often a reading agreed with staff over `n` corrections."""

    n: int
    primary_right: int
    crisis_right: int

    @property
    def primary(self) -> float | None:
        """Share of corrections whose primary category was staff's (None without any)."""
        return self.primary_right / self.n if self.n else None

    @property
    def crisis(self) -> float | None:
        """Share of corrections whose crisis flag was staff's (None without any)."""
        return self.crisis_right / self.n if self.n else None


def agreement(pairs: Sequence[tuple[tuple[str | None, bool], tuple[str, bool]]]) -> Agreement:
    """((said primary, said crisis), (staff's primary, staff's crisis)) pairs → the agreement."""
    return Agreement(
        n=len(pairs),
        primary_right=sum(said[0] == truth[0] for said, truth in pairs),
        crisis_right=sum(said[1] == truth[1] for said, truth in pairs),
    )


@dataclass(frozen=True)
class Figures:
    """The latest corrections' agreement: the model's stored reading (what the request was filed
    with) and, when a reader is given, the loaded model's reading of the same texts now."""

    stored: Agreement
    now: Agreement | None


#: reads a text on a date: (primary, crisis) — the loaded NLP's `analyze`
Reader = Callable[[str, date], tuple[str | None, bool]]


def figures(session: Session, *, read: Reader | None = None, limit: int = RECENT) -> Figures:
    """How the model did on the latest `limit` corrections (every unit's: it is one model)."""
    rows = repo.recent_corrections(session, limit=limit)
    truths = [(_primary(r.staff_categories), r.staff_crisis) for r in rows]
    stored = agreement(
        [
            ((_primary(r.model_categories), r.model_crisis), truth)
            for r, truth in zip(rows, truths, strict=True)
        ]
    )
    if read is None:
        return Figures(stored, None)
    now = agreement(
        [
            (read(r.text, repo.as_utc(r.corrected_at).date()), truth)
            for r, truth in zip(rows, truths, strict=True)
        ]
    )
    return Figures(stored, now)


def _primary(categories: Sequence[str]) -> str:
    return categories[0] if categories else ""
