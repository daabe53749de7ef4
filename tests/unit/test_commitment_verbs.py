"""The commitment's verbs on the in-memory store: milestones with their progress, writing
off only once fulfilled (409 before), reopening back to in progress, and a member's consent
to be shown by name (党员亮身份)."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.views import commitment_view
from domain.errors import Forbidden, Invalid, NotFound, TransitionNotAllowed
from domain.lifecycle import Action
from domain.vocabulary import DutyRole, Role, Satisfaction
from tests.unit.verbs_support import COLLECTOR, STAFF, Office, open_office, person


@pytest.fixture
def office() -> Office:
    return open_office()


def _assigned(office: Office) -> UUID:
    concern = office.raise_concern()
    office.app.handle_now(concern, STAFF, office.owner, DutyRole.ENVIRONMENT_MONITOR, office.due())
    return concern


def _board(office: Office, concern: UUID) -> dict[str, object]:
    return commitment_view(office.app.get_concern(concern))


def test_milestones_give_the_progress_done_over_all(office: Office) -> None:
    concern = _assigned(office)
    first = office.app.add_milestone(concern, office.owner_principal, "采购灯具", office.due(3))
    office.app.add_milestone(concern, STAFF, "安装灯具", office.due(7))
    assert _board(office, concern)["progress"] == 0

    office.app.complete_milestone(
        concern, office.owner_principal, UUID(first.body()["milestone_id"]), "已到货"
    )

    seen = _board(office, concern)
    assert seen["commitment"] == "in_progress"
    assert seen["progress"] == 50
    assert [m["done"] for m in seen["milestones"]] == [True, False]  # type: ignore[attr-defined]
    assert office.events(concern)[-2:] == ["MilestoneAdded", "MilestoneDone"]


def test_a_milestone_is_done_once_and_must_exist(office: Office) -> None:
    concern = _assigned(office)
    added = office.app.add_milestone(concern, STAFF, "采购灯具", office.due(3))
    milestone = UUID(added.body()["milestone_id"])
    office.app.complete_milestone(concern, STAFF, milestone)

    with pytest.raises(TransitionNotAllowed):  # nothing left open
        office.app.complete_milestone(concern, STAFF, milestone)
    office.app.add_milestone(concern, STAFF, "安装灯具", office.due(7))
    with pytest.raises(Invalid):
        office.app.complete_milestone(concern, STAFF, milestone)
    with pytest.raises(NotFound):
        office.app.complete_milestone(concern, STAFF, UUID(int=7))


def test_a_milestone_due_in_the_past_or_by_a_collector_is_refused(office: Office) -> None:
    concern = _assigned(office)
    with pytest.raises(Invalid) as refused:
        office.app.add_milestone(concern, STAFF, "采购灯具", office.due(-30))
    assert refused.value.fields[0][0] == "due_on"
    with pytest.raises(Forbidden):
        office.app.add_milestone(concern, COLLECTOR, "采购灯具", office.due(3))
    assert "MilestoneAdded" not in office.events(concern)


def test_write_off_is_refused_before_fulfilment_then_done_and_reopening_goes_back(
    office: Office,
) -> None:
    concern = _assigned(office)
    with pytest.raises(TransitionNotAllowed):
        office.app.write_off(concern, STAFF, "提前注销")
    office.app.resolve(concern, office.owner_principal, "已更换灯泡")
    with pytest.raises(TransitionNotAllowed) as refused:  # the resident has not answered
        office.app.write_off(concern, STAFF)
    assert Action.WRITE_OFF not in refused.value.allowed

    office.app.record_feedback(concern, COLLECTOR, True, Satisfaction.BASICALLY_SATISFIED)
    assert _board(office, concern)["commitment"] == "fulfilled"
    office.app.write_off(concern, STAFF, "承诺已兑现")
    assert _board(office, concern)["commitment"] == "written_off"
    with pytest.raises(TransitionNotAllowed):  # once
        office.app.write_off(concern, STAFF)

    office.app.reopen(concern, STAFF, "居民反映再次损坏")
    assert _board(office, concern)["commitment"] == "in_progress"
    assert office.events(concern)[-2:] == ["WrittenOff", "Reopened"]


def test_a_member_agrees_to_be_shown_by_name_themselves_or_by_staff(office: Office) -> None:
    app, owner = office.app, office.owner
    assert not app.get_member(owner).shown_in_public
    app.set_public_identity(owner, office.owner_principal, True)
    assert app.get_member(owner).shown_in_public
    app.set_public_identity(owner, STAFF, False)
    assert not app.get_member(owner).shown_in_public

    stranger = person("other", Role.MEMBER, member=office.voters[1])
    with pytest.raises(Forbidden):
        app.set_public_identity(owner, stranger, True)
    assert not app.get_member(owner).shown_in_public
