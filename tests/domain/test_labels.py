"""Staff correcting a request's labels (bot/domain/labels.py): the request changes, an event and
a labelled example are stored, bad corrections are refused, and the agreement figure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot import texts
from bot.domain import labels
from bot.domain.errors import Conflict, DomainError, Invalid, NotFound
from bot.domain.requests import Actor
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent, LabelCorrection
from tests.factories import help_request

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
NEED = "想找个保洁的活，电话13812345678"


@pytest.fixture
def world(sqlite_database: Database) -> Iterator[Session]:
    """A jobs request at 朝阳区/双井街道 and one at 海淀区; staff of 朝阳区 (id 1 once made)."""
    with sqlite_database.transaction() as session:
        help_request(session, need=NEED, now=NOW)
        help_request(session, place="海淀区", need="想学电脑", now=NOW)
        unit = repo.unit_by_path(session, path="朝阳区")
        assert unit is not None
        repo.create_staff(session, username="chaoyang", password_hash="x", unit=unit, now=NOW)
        yield session


def code_of(session: Session, district: str) -> str:
    """The code of the world's request in `district`."""
    found = session.exec(select(HelpRequest).where(HelpRequest.district == district)).first()
    assert found is not None
    return found.code


def chaoyang(session: Session) -> Actor:
    """朝阳区's console staff as the lifecycle's actor."""
    unit = repo.unit_by_path(session, path="朝阳区")
    assert unit is not None
    return Actor.console(
        username="chaoyang", unit_id=unit.id or 0, unit_ids=repo.units_below(session, unit=unit)
    )


def correct(
    session: Session,
    categories: list[str] | None,
    crisis: bool | None = None,
    district: str = "朝阳区",
    at: datetime = NOW,
) -> labels.Corrected:
    """朝阳区's staff correct the request in `district`."""
    return labels.correct(
        session,
        code=code_of(session, district),
        actor=chaoyang(session),
        staff_id=1,
        categories=categories,
        crisis=crisis,
        now=at,
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (["health"], ("health",)),
        (["rights", "relief", "rights"], ("rights", "relief")),
        ([" knowledge ", "jobs"], ("knowledge", "jobs")),
        (["other"], ("other",)),
    ],
)
def test_valid_categories_keep_the_primary_first(given: list[str], stored: tuple[str, ...]) -> None:
    """Known codes, the first the primary, repeats and spaces dropped."""
    assert labels.valid_categories(given) == stored


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ([], "labels.empty"),
        (["jobs", "money"], "labels.unknown"),
        (["other", "jobs"], "labels.other_alone"),
    ],
)
def test_bad_categories_are_refused(given: list[str], key: str) -> None:
    """No category, an unknown one, `other` beside another: Invalid, with its text."""
    with pytest.raises(Invalid) as refused:
        labels.valid_categories(given)
    assert refused.value.key == key


def test_a_correction_changes_the_request_and_keeps_the_example(world: Session) -> None:
    """The request gets staff's labels and a 'relabelled' event; the example holds the masked
    need, the filed reading and staff's."""
    done = correct(world, ["rights", "jobs"], crisis=True)
    request = done.request
    assert (request.primary, request.categories, request.crisis) == (
        "rights",
        ["rights", "jobs"],
        True,
    )
    row = done.correction
    assert (row.text, row.model_categories, row.model_crisis) == (
        "想找个保洁的活，电话138****5678",
        ["jobs"],
        False,
    )
    assert (row.staff_categories, row.staff_crisis, row.staff_id) == (["rights", "jobs"], True, 1)
    event = world.exec(
        select(HelpRequestEvent)
        .where(HelpRequestEvent.request_id == request.id)
        .order_by(col(HelpRequestEvent.id).desc())
    ).first()
    assert event is not None and event.kind == "relabelled"
    assert event.note == "类别：岗位 → 维权、岗位（紧急）（控制台：chaoyang）"


def test_a_second_correction_keeps_what_the_model_said(world: Session) -> None:
    """Corrected twice: both examples name the model's reading, not the first correction."""
    correct(world, ["health"])
    second = correct(world, None, crisis=True, at=NOW + timedelta(hours=1))
    assert (second.correction.model_categories, second.correction.model_crisis) == (["jobs"], False)
    assert second.correction.staff_categories == ["health"]
    assert len(world.exec(select(LabelCorrection)).all()) == 2


@pytest.mark.parametrize(
    ("categories", "crisis", "district", "error", "key"),
    [
        (["jobs"], None, "朝阳区", Invalid, "labels.unchanged"),
        (None, False, "朝阳区", Invalid, "labels.unchanged"),
        (None, None, "朝阳区", Invalid, "labels.unchanged"),
        (["jobs", "nope"], None, "朝阳区", Invalid, "labels.unknown"),
        (["health"], None, "海淀区", NotFound, "progress.not_found"),
    ],
)
def test_refusals(
    world: Session,
    categories: list[str] | None,
    crisis: bool | None,
    district: str,
    error: type[DomainError],
    key: str,
) -> None:
    """Nothing changed, a bad category, another district's request: refused, nothing stored."""
    with pytest.raises(error) as refused:
        correct(world, categories, crisis, district=district)
    assert refused.value.key == key
    assert world.exec(select(LabelCorrection)).all() == []


def test_an_erased_request_is_not_corrected(world: Session) -> None:
    """Her words erased (the placeholder, no requester): Conflict, nothing to learn from."""
    request = world.exec(select(HelpRequest).where(HelpRequest.district == "朝阳区")).one()
    request.need = texts.t("delete.placeholder")
    world.add(request)
    with pytest.raises(Conflict):
        correct(world, ["health"])


# ----------------------------------------------------------------------------- the figure

# (filed primary, filed crisis, staff's categories, staff's crisis, the loaded model now)
HANDMADE = [
    ("jobs", False, ["jobs", "knowledge"], False, ("jobs", False)),
    ("jobs", False, ["rights"], False, ("rights", False)),
    ("health", False, ["health"], True, ("health", True)),
    ("relief", True, ["relief"], False, (None, False)),
]


def test_agreement_on_a_handmade_set(world: Session) -> None:
    """Filed: primary 3/4, crisis 2/4; the model now: primary 3/4, crisis 4/4."""
    request = world.exec(select(HelpRequest).where(HelpRequest.district == "朝阳区")).one()
    readings = {}
    for i, (primary, crisis, staff, staff_crisis, now) in enumerate(HANDMADE):
        text = f"第{i}条"
        readings[text] = now
        repo.add_correction(
            world,
            request=request,
            staff_id=1,
            text=text,
            model_categories=[primary],
            model_crisis=crisis,
            staff_categories=staff,
            staff_crisis=staff_crisis,
            now=NOW + timedelta(minutes=i),
        )

    def read(text: str, day: date) -> tuple[str | None, bool]:
        assert day == date(2026, 3, 2)
        return readings[text]

    got = labels.figures(world, read=read)
    assert (got.stored.n, got.stored.primary_right, got.stored.crisis_right) == (4, 3, 2)
    assert got.now is not None
    assert (got.now.primary, got.now.crisis) == (0.75, 1.0)
    assert labels.figures(world, limit=2).stored.n == 2  # the latest two only
    assert labels.figures(world).now is None


def test_no_corrections_no_shares() -> None:
    """Without corrections the shares are None, not a division by zero."""
    empty = labels.agreement([])
    assert (empty.n, empty.primary, empty.crisis) == (0, None, None)
