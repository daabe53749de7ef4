"""The verbs of in-service members and volunteers on the in-memory store: registering them
(no vote in the branch), setting and claiming posts (409 post_full), recording service,
the community's feedback, and the evaluation of a period."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest

from domain.errors import Conflict, Forbidden, Invalid
from domain.service import Period, Rating
from domain.vocabulary import Role
from tests.unit.verbs_support import ADMIN, COMMITTEE, STAFF, Office, open_office, person


@pytest.fixture
def office() -> Office:
    return open_office()


def _in_service(office: Office, name: str) -> UUID:
    reported = office.clock().date()
    done = office.app.register_member(
        ADMIN,
        name,
        ["2"],
        [],
        True,
        kind="in_service",
        organisation="县林业局",
        reported_on=reported,
    )
    return UUID(done.id)


def test_in_service_members_and_volunteers_never_vote_in_the_branch(office: Office) -> None:
    member = office.app.get_member(_in_service(office, "林业局党员"))
    assert (member.kind, member.organisation, member.votes_in_branch) == (
        "in_service",
        "县林业局",
        False,
    )
    badged = office.app.register_member(
        ADMIN, "志愿者", ["2"], [], True, kind="volunteer", badge_number="V-1"
    )
    volunteer = office.app.get_member(UUID(badged.id))
    assert (volunteer.kind, volunteer.badge_number, volunteer.votes_in_branch) == (
        "volunteer",
        "V-1",
        False,
    )
    with pytest.raises(Invalid):
        office.app.register_member(ADMIN, "无单位", ["2"], [], False, kind="in_service")


def test_a_post_takes_as_many_claims_as_it_has_seats(office: Office) -> None:
    post = UUID(office.app.set_post(STAFF, "环境维护岗", "2", "广场除草", 1).id)
    first, second = _in_service(office, "甲"), _in_service(office, "乙")
    office.app.claim_post(post, person("甲", Role.MEMBER, member=first), first)
    with pytest.raises(Conflict) as full:
        office.app.claim_post(post, STAFF, second)
    assert full.value.rule == "post_full"
    with pytest.raises(Forbidden):  # another member's claim
        office.app.claim_post(post, person("甲", Role.MEMBER, member=first), second)
    assert office.app.get_post(post).holders == [first]
    with pytest.raises(Forbidden):
        office.app.set_post(COMMITTEE, "法律援助岗", "2", "", 2)


def test_service_and_feedback_make_the_evaluation_of_the_period(office: Office) -> None:
    member = _in_service(office, "甲")
    post = UUID(office.app.set_post(STAFF, "帮贫济困岗", "2", "", 2).id)
    office.app.claim_post(post, STAFF, member)
    today = office.clock().date()
    office.app.record_service(STAFF, member, post, today, 3, "入户走访")
    office.app.record_service(STAFF, member, None, today - timedelta(days=1), 1.5, "宣传")
    with pytest.raises(Invalid):
        office.app.record_service(STAFF, member, None, today + timedelta(days=1), 1, "将来")
    half = f"{today.year}H{1 if today.month <= 6 else 2}"
    office.app.give_feedback(member, STAFF, half, Rating.EXCELLENT, "认真负责")
    with pytest.raises(Invalid):
        office.app.give_feedback(member, STAFF, "2026Q3", Rating.GOOD)

    found = {e["member_id"]: e for e in office.app.evaluations(STAFF, Period.parse(half))}
    mine = found[str(member)]
    assert (mine["hours"], mine["posts"], mine["feedback"]) == (4.5, ["帮贫济困岗"], "excellent")
    elsewhere = person("三网格", Role.STAFF)
    scoped = office.app.evaluations(
        type(elsewhere)(elsewhere.id, elsewhere.name, elsewhere.roles, frozenset({"3"}), None),
        Period.parse(str(today.year)),
    )
    assert scoped == []


def test_a_period_is_a_year_or_a_half_year() -> None:
    assert Period.parse("2026H2") == Period("2026H2", date(2026, 7, 1), date(2026, 12, 31))
    assert Period.parse("2026").last == date(2026, 12, 31)
    for bad in ("2026H3", "26", "2026-H1", ""):
        with pytest.raises(Invalid):
            Period.parse(bad)
