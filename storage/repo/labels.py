"""Staff's corrections of help requests' labels: the NLP's labelled examples from deployment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import HelpRequest, LabelCorrection
from storage.repo._common import stored


def add_correction(
    session: Session,
    *,
    request: HelpRequest,
    staff_id: int,
    text: str,
    model_categories: Sequence[str],
    model_crisis: bool,
    staff_categories: Sequence[str],
    staff_crisis: bool,
    now: datetime,
) -> LabelCorrection:
    """Store one labelled example: the text the model read, what it said, what staff say."""
    row = LabelCorrection(
        request_id=request.id or 0,
        staff_id=staff_id,
        text=text,
        model_categories=list(model_categories),
        model_crisis=model_crisis,
        staff_categories=list(staff_categories),
        staff_crisis=staff_crisis,
        corrected_at=stored(now),
    )
    session.add(row)
    return row


def first_correction_of(session: Session, *, request_id: int) -> LabelCorrection | None:
    """The request's first correction (it holds what the model said before anyone corrected)."""
    return session.exec(
        select(LabelCorrection)
        .where(LabelCorrection.request_id == request_id)
        .order_by(col(LabelCorrection.id))
        .limit(1)
    ).first()


def recent_corrections(session: Session, *, limit: int = 100) -> list[LabelCorrection]:
    """The latest `limit` corrections, newest first."""
    return list(
        session.exec(
            select(LabelCorrection)
            .order_by(col(LabelCorrection.corrected_at).desc(), col(LabelCorrection.id).desc())
            .limit(limit)
        ).all()
    )


def all_corrections(session: Session) -> list[LabelCorrection]:
    """Every correction, oldest first (a later one of the same text wins in training)."""
    return list(
        session.exec(
            select(LabelCorrection).order_by(
                col(LabelCorrection.corrected_at), col(LabelCorrection.id)
            )
        ).all()
    )


def count_corrections(session: Session) -> int:
    """How many corrections are stored."""
    return int(session.exec(select(sa.func.count()).select_from(LabelCorrection)).one())


def delete_corrections_of(session: Session, *, request_ids: Sequence[int]) -> int:
    """Delete the corrections of these requests (erasure: they hold her words); how many."""
    if not request_ids:
        return 0
    table = LabelCorrection.__table__  # type: ignore[attr-defined]
    result = session.execute(sa.delete(table).where(table.c.request_id.in_(list(request_ids))))
    return int(getattr(result, "rowcount", 0) or 0)
