"""Co-signers on the in-memory store: a resident joins an open concern (sealed as usual),
the concern counts its residents, a closed one is refused, and a merge moves every resident
of the merged concern to the surviving one."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.errors import Conflict, Forbidden, Invalid
from domain.principal import Principal
from domain.residents import ResidentData
from domain.vocabulary import Channel, Role
from tests.unit.verbs_support import COLLECTOR, RESIDENT, STAFF, Office, open_office

NEIGHBOUR = ResidentData(name="李秀兰", phone="13900000000")


@pytest.fixture
def office() -> Office:
    return open_office()


def test_a_resident_joins_and_the_concern_counts_two_residents(office: Office) -> None:
    app = office.app
    concern = office.raise_concern()
    done = app.add_cosigner(concern, COLLECTOR, NEIGHBOUR, False, Channel.VISIT)
    assert done.body()["residents_count"] == 2
    joined = app.get_concern(concern)
    assert joined.residents_count == 2
    assert joined.status == "intake"  # joining moves nothing in the lifecycle
    ref = joined.cosigners[0]["resident_ref"]
    opened = app.keyring.open(ref, joined.cosigners[0]["resident_data"])
    assert opened == NEIGHBOUR  # sealed under its own key, as a new concern's resident
    assert "李秀兰" not in str(joined.cosigners)


def test_an_anonymous_co_signer_counts_too_but_carries_no_data(office: Office) -> None:
    app = office.app
    concern = office.raise_concern()
    app.add_cosigner(concern, STAFF, ResidentData(), True, Channel.HOTLINE)
    with pytest.raises(Invalid) as refused:
        app.add_cosigner(concern, STAFF, NEIGHBOUR, True, Channel.HOTLINE)
    assert refused.value.fields[0][0] == "anonymous"
    with pytest.raises(Invalid) as unnamed:
        app.add_cosigner(concern, STAFF, ResidentData(), False, Channel.HOTLINE)
    assert unnamed.value.fields[0][0] == "resident"
    assert app.get_concern(concern).residents_count == 2


def test_a_closed_concern_or_another_grid_is_refused(office: Office) -> None:
    app = office.app
    concern = office.raise_concern()
    app.withdraw(concern, STAFF, "居民撤回")
    with pytest.raises(Conflict):
        app.add_cosigner(concern, STAFF, NEIGHBOUR, False, Channel.VISIT)
    other = Principal("g3", "g3", frozenset({Role.COLLECTOR}), frozenset({"3"}))
    with pytest.raises(Forbidden):
        app.add_cosigner(office.raise_concern(), other, NEIGHBOUR, False, Channel.VISIT)


def test_a_merge_moves_the_merged_concerns_residents_to_the_surviving_one(office: Office) -> None:
    app = office.app
    surviving = office.raise_concern()
    merged = office.raise_concern()
    app.add_cosigner(merged, STAFF, NEIGHBOUR, False, Channel.VISIT)
    app.merge(merged, STAFF, surviving, "同一件事")
    after = app.get_concern(surviving)
    assert after.residents_count == 3
    moved = [c for c in after.cosigners if c["from_concern"] == merged]
    assert len(moved) == 2
    people = [app.keyring.open(c["resident_ref"], c["resident_data"]) for c in moved]
    assert people == [RESIDENT, NEIGHBOUR]  # the same sealed data, the same keys
    assert app.get_concern(merged).status == "merged"


def test_erasing_a_moved_resident_reaches_the_surviving_concern(office: Office) -> None:
    from application.residents import erase_personal_data
    from tests.unit.verbs_support import ADMIN

    app = office.app
    surviving = office.raise_concern()
    merged = office.raise_concern()
    ref = app.get_concern(merged).resident_ref
    assert ref is not None
    app.merge(merged, STAFF, surviving)
    erase_personal_data(app, ADMIN, ref)
    moved = app.get_concern(surviving).cosigners[0]
    assert moved["resident_ref"] == ref
    assert app.keyring.open(ref, moved["resident_data"]) is None


def test_the_merged_concern_keeps_nothing_moved_twice(office: Office) -> None:
    app = office.app
    a, b = office.raise_concern(), office.raise_concern()
    app.merge(a, STAFF, b)
    assert app.get_concern(b).residents_count == 2
    assert UUID(str(app.get_concern(a).merged_into)) == b
