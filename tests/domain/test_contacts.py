"""`bot.domain.contacts`: the contact-point rules the chat and the staff API share —
who holds points, jurisdiction, pseudonyms, quotas — each refusal with its reason, key and
status, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot.domain.contacts import (
    Area,
    Refused,
    cadre_area,
    check_pseudonym,
    display,
    place_in,
    register,
    register_household,
    register_place,
)
from bot.nlp import NLP
from storage import repo
from storage.db import Database
from storage.models import User
from tests.factories import bind_cadre

NOW = datetime(2026, 3, 18, 2, tzinfo=UTC)


def _resident(session: Session) -> User:
    _identity, user, _new = repo.get_or_create_identity(
        session, channel="api", external_id="resident", now=NOW
    )
    return user


def _refusal(error: pytest.ExceptionInfo[Refused]) -> tuple[str, str, int]:
    return error.value.reason, error.value.key, error.value.status


def test_only_a_bound_cadre_holds_points(database: Database, nlp: NLP) -> None:
    """A resident has no area and is refused `cadre_only` (422)."""
    with database.transaction() as session:
        resident = _resident(session)
        assert cadre_area(session, resident) is None
        with pytest.raises(Refused) as refused:
            register_place(session, user=resident, nlp=nlp, now=NOW, text="九龙社区")
    assert _refusal(refused) == ("cadre_only", "contacts.cadre_only", 422)


def test_a_street_cadre_registers_a_community_of_her_street(database: Database, nlp: NLP) -> None:
    """A community named alone lies in her street; the same point again is not added twice."""
    with database.transaction() as session:
        her = bind_cadre(session, place="朝阳区/双井街道", now=NOW)
        assert cadre_area(session, her) == Area(district="朝阳区", street="双井街道")
        first = register_place(session, user=her, nlp=nlp, now=NOW, text="九龙社区")
        again = register_place(session, user=her, nlp=nlp, now=NOW, text="九龙社区")
    assert (first.point.kind, first.point.name, first.added, first.count, first.quota) == (
        "community",
        "九龙社区",
        True,
        1,
        4,
    )
    assert (again.added, again.point.id) == (False, first.point.id)


@pytest.mark.parametrize(
    ("text", "reason", "status"),
    [
        ("月球", "place_unknown", 422),
        ("海淀区", "place_outside", 422),
        ("朝阳区", "place_outside", 422),  # above her street
    ],
)
def test_places_outside_her_area_are_refused(
    database: Database, nlp: NLP, text: str, reason: str, status: int
) -> None:
    """Unknown places and places outside her jurisdiction are refused with their reason."""
    with database.transaction() as session:
        her = bind_cadre(session, place="朝阳区/双井街道", now=NOW)
        with pytest.raises(Refused) as refused:
            register_place(session, user=her, nlp=nlp, now=NOW, text=text)
    assert (refused.value.reason, refused.value.status) == (reason, status)
    assert refused.value.key == f"contacts.{reason}"


def test_a_city_cadre_names_the_street_of_a_community(nlp: NLP) -> None:
    """Above the district level a community needs its street (`need_street`); the area words
    name her jurisdiction."""
    city = Area(district=None, street=None)
    with pytest.raises(Refused) as refused:
        place_in(nlp, city, "九龙社区")
    assert refused.value.reason == "need_street"
    place = place_in(nlp, city, "双井街道九龙社区")
    assert (place.kind, place.district, place.street, place.name) == (
        "community",
        "朝阳区",
        "双井街道",
        "九龙社区",
    )
    assert Area(district="朝阳区", street="双井街道").words == "朝阳区双井街道"


def test_a_kind_asked_for_must_match(database: Database, nlp: NLP) -> None:
    """Asked for a street, a community is refused `wrong_kind`, naming both kinds."""
    with database.transaction() as session:
        her = bind_cadre(session, place="朝阳区", now=NOW)
        with pytest.raises(Refused) as refused:
            register(session, user=her, nlp=nlp, now=NOW, kind="street", name="双井街道九龙社区")
        with pytest.raises(ValueError):
            register(session, user=her, nlp=nlp, now=NOW, kind="village", name="九龙社区")
    assert refused.value.reason == "wrong_kind"
    assert refused.value.fields == {"place": "双井街道九龙社区", "kind": "community"}


def test_over_quota_is_a_conflict(database: Database, nlp: NLP) -> None:
    """A third street is refused `over_quota` (409), naming the quota and the two she holds."""
    with database.transaction() as session:
        her = bind_cadre(session, place="朝阳区", now=NOW)
        for street in ("双井街道", "劲松街道"):
            register(session, user=her, nlp=nlp, now=NOW, kind="street", name=street)
        with pytest.raises(Refused) as refused:
            register(session, user=her, nlp=nlp, now=NOW, kind="street", name="潘家园街道")
    assert (refused.value.code, refused.value.status) == ("over_quota", 409)
    assert (refused.value.fields["quota"], refused.value.fields["count"]) == (2, 2)
    assert refused.value.fields["names"] == "双井街道、劲松街道"


def test_households_by_pseudonym_and_community(database: Database, nlp: NLP) -> None:
    """A household is a pseudonym in a community: shown as 王某（九龙社区）; the same pseudonym
    in another community is `pair_taken` (409); a street is not a community; none at all is
    `pair_usage`."""
    with database.transaction() as session:
        her = bind_cadre(session, place="朝阳区/双井街道", now=NOW)
        done = register_household(
            session, user=her, nlp=nlp, now=NOW, name="王某", community="九龙社区"
        )
        assert (done.point.kind, display(done.point), done.quota) == ("household", "王某（九龙社区）", 6)  # fmt: skip
        with pytest.raises(Refused) as taken:
            register_household(session, user=her, nlp=nlp, now=NOW, name="王某", community="光明社区")  # fmt: skip
        with pytest.raises(Refused) as street:
            register_household(session, user=her, nlp=nlp, now=NOW, name="李某", community="双井街道")  # fmt: skip
        with pytest.raises(Refused) as missing:
            register(session, user=her, nlp=nlp, now=NOW, kind="household", name="李某")
    assert (taken.value.reason, taken.value.status) == ("pair_taken", 409)
    assert taken.value.fields == {"name": "王某", "community": "九龙社区"}
    assert street.value.reason == "pair_community"
    assert missing.value.reason == "pair_usage"


@pytest.mark.parametrize(
    ("name", "fit"),
    [
        ("王某", True),
        ("李大姐", True),
        ("", False),
        ("王某某某某某某某某", False),  # more than 8 characters
        ("王某2", False),
        ("王 某", False),
        ("13812345678", False),
    ],
)
def test_pseudonyms(name: str, fit: bool) -> None:
    """A pseudonym is short, one word, with no digits and nothing the PII mask hides."""
    if fit:
        check_pseudonym(name)
    else:
        with pytest.raises(Refused) as refused:
            check_pseudonym(name)
        assert (refused.value.reason, refused.value.status) == ("pair_name", 422)
