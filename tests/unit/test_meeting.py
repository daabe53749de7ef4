"""The Meeting aggregate alone, in memory: agenda, attendance, votes, outcomes and refusals.

Every refusal is a Conflict naming its rule, and a refused step records no event and leaves
the meeting as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import Conflict, Invalid
from domain.meeting import (
    ItemStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    representative_names,
)
from domain.voting import Choice, Outcome, Rules
from tests.unit.builders import AT, CHAIR, COMMITTEE, OWNER

FOR, AGAINST, ABSTAIN = Choice.FOR, Choice.AGAINST, Choice.ABSTAIN
MEETING_AT = AT + timedelta(days=22)  # 25 March, 09:00


@dataclass
class Branch:
    """Fifteen members entitled to vote, a probationary member and a meeting to hold."""

    entitled: list[UUID]
    probationary: UUID
    meeting: Meeting
    items: list[UUID]


def sealed(names: list[str]) -> list[dict[str, str]]:
    """Stand-ins for sealed names (the application seals them with the keyring)."""
    return [{"resident_ref": f"R-{i}", "name": f"sealed:{n}"} for i, n in enumerate(names)]


def schedule(entitled: list[UUID], rules: Rules | None = None) -> Meeting:
    return Meeting.schedule(
        title="3月主题党日·民情会诊",
        kind=MeetingKind.THEMATIC_PARTY_DAY,
        scheduled_for=MEETING_AT,
        place="社区党群服务中心",
        chair=entitled[0],
        eligible_voters=entitled,
        rules=rules or Rules(),
        actor=COMMITTEE,
        at=AT,
    )


def branch(rules: Rules | None = None, items: int = 2) -> Branch:
    entitled = [uuid4() for _ in range(15)]
    meeting = schedule(entitled, rules)
    concerns = [uuid4() for _ in range(items)]
    for concern_id in concerns:
        meeting.add_item(COMMITTEE, concern_id, AT)
    meeting.collect_events()
    return Branch(entitled, uuid4(), meeting, concerns)


def opened(rules: Rules | None = None, present: int = 11) -> Branch:
    """The worked story's meeting, open: 11 of 15 present (and the probationary member)."""
    b = branch(rules)
    attending = [*b.entitled[:present], b.probationary]
    b.meeting.open(CHAIR, attending, sealed(["居民代表张秀英", "居民代表刘建国"]), MEETING_AT)
    b.meeting.collect_events()
    return b


def voting(rules: Rules | None = None, present: int = 11) -> Branch:
    """As `opened`, with the vote open on the first item."""
    b = opened(rules, present)
    b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT)
    b.meeting.collect_events()
    return b


def snapshot(meeting: Meeting) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in meeting.__dict__.items() if k != "_pending_events"}


def names(meeting: Meeting) -> list[str]:
    return [type(e).__name__ for e in meeting.collect_events()]


def refused(meeting: Meeting, step: Callable[[], object], rule: str) -> Conflict:
    """Run a step that must be refused by `rule`, and check it changed nothing."""
    meeting.collect_events()
    before = snapshot(meeting)
    with pytest.raises(Conflict) as raised:
        step()
    assert raised.value.rule == rule
    assert str(raised.value)
    assert meeting.collect_events() == []
    assert snapshot(meeting) == before
    return raised.value


def rebuild(events: list[Any]) -> Meeting:
    aggregate: Meeting | None = None
    for e in events:
        aggregate = e.mutate(aggregate)
    assert aggregate is not None
    return aggregate


# -- scheduling and the agenda ----------------------------------------------------------------


def test_a_scheduled_meeting_has_its_chair_voters_rules_and_an_empty_agenda() -> None:
    entitled = [uuid4() for _ in range(3)]
    meeting = schedule([*entitled, entitled[0]], Rules(quorum="two_thirds"))

    assert meeting.status == MeetingStatus.SCHEDULED
    assert meeting.eligible_voters == entitled  # duplicates dropped, order kept
    assert meeting.chair == entitled[0]
    assert meeting.rules == {
        "quorum": "two_thirds",
        "threshold": "majority_of_entitled",
        "ballot": "open",
    }
    assert meeting.agenda == []
    assert names(meeting) == ["Scheduled"]


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_a_meeting_needs_a_title(title: str) -> None:
    with pytest.raises(Invalid) as raised:
        Meeting.schedule(
            title=title,
            kind=MeetingKind.COMMITTEE_SESSION,
            scheduled_for=MEETING_AT,
            place="",
            chair=uuid4(),
            eligible_voters=[uuid4()],
            rules=Rules(),
            actor=COMMITTEE,
            at=AT,
        )
    assert [f for f, _ in raised.value.fields] == ["title"]


def test_a_meeting_needs_someone_entitled_to_vote() -> None:
    with pytest.raises(Invalid) as raised:
        Meeting.schedule(
            title="支委会",
            kind=MeetingKind.COMMITTEE_SESSION,
            scheduled_for=MEETING_AT,
            place="",
            chair=uuid4(),
            eligible_voters=[],
            rules=Rules(),
            actor=COMMITTEE,
            at=AT,
        )
    assert [f for f, _ in raised.value.fields] == ["eligible_voters"]


def test_items_join_the_agenda_in_order_awaiting_a_vote() -> None:
    b = branch(items=0)
    first, second = uuid4(), uuid4()

    b.meeting.add_item(COMMITTEE, first, AT)
    b.meeting.add_item(COMMITTEE, second, AT)

    assert b.meeting.agenda == [first, second]
    assert b.meeting.undecided() == [first, second]
    assert b.meeting.items[str(first)]["status"] == ItemStatus.PENDING
    assert names(b.meeting) == ["ItemAdded", "ItemAdded"]


def test_a_concern_is_on_an_agenda_once() -> None:
    b = branch()
    refused(b.meeting, lambda: b.meeting.add_item(COMMITTEE, b.items[0], AT), "already_on_agenda")


def test_an_open_meeting_still_takes_items() -> None:
    b = opened()
    late = uuid4()
    b.meeting.add_item(COMMITTEE, late, MEETING_AT)
    assert b.meeting.agenda[-1] == late


def test_a_closed_meeting_takes_no_new_items() -> None:
    b = opened()
    b.meeting.close(CHAIR, "会议记录", MEETING_AT)
    refused(b.meeting, lambda: b.meeting.add_item(COMMITTEE, uuid4(), MEETING_AT), "meeting_closed")


# -- opening: attendance -----------------------------------------------------------------------


def test_opening_records_attendance_and_resident_representatives() -> None:
    b = branch()
    present = [*b.entitled[:11], b.entitled[0], b.probationary]

    names_given = representative_names(["  居民代表张秀英 ", "", "居民代表刘建国"])
    b.meeting.open(CHAIR, present, sealed(names_given), MEETING_AT)

    assert names_given == ["居民代表张秀英", "居民代表刘建国"]
    assert b.meeting.status == MeetingStatus.OPEN
    assert b.meeting.present == [*b.entitled[:11], b.probationary]  # each once
    # The names are kept only as sealed: no plain name in the meeting (or its event).
    assert b.meeting.resident_representatives == []
    assert b.meeting.sealed_representatives == sealed(names_given)
    # Only entitled members count towards the quorum: the probationary member does not.
    assert b.meeting.entitled_present() == b.entitled[:11]
    assert b.meeting.opened_at == MEETING_AT
    assert names(b.meeting) == ["Opened"]


def test_a_meeting_is_opened_once() -> None:
    b = opened()
    refused(b.meeting, lambda: b.meeting.open(CHAIR, b.entitled, [], MEETING_AT), "meeting_opened")


def test_a_closed_meeting_cannot_be_opened_again() -> None:
    b = opened()
    b.meeting.close(CHAIR, "会议记录", MEETING_AT)
    refused(b.meeting, lambda: b.meeting.open(CHAIR, b.entitled, [], MEETING_AT), "meeting_opened")


# -- the vote on an item -------------------------------------------------------------------------


def test_the_worked_story_ten_for_one_abstain_of_fifteen_is_adopted() -> None:
    b = voting()
    concern = b.items[0]
    for member in b.entitled[:10]:
        b.meeting.cast_vote(CHAIR, concern, member, FOR, True, MEETING_AT)
    b.meeting.cast_vote(OWNER, concern, b.entitled[10], ABSTAIN, False, MEETING_AT)

    live = b.meeting.tally(concern)
    assert (live.votes_for, live.against, live.abstain) == (10, 0, 1)
    tally = b.meeting.close_vote(CHAIR, concern, MEETING_AT)

    assert tally.outcome == Outcome.ADOPTED
    assert (tally.entitled, tally.present) == (15, 11)
    item = b.meeting.items[str(concern)]
    assert item["status"] == ItemStatus.DECIDED
    assert item["tally"] == tally.as_dict()
    assert item["votes"][str(b.entitled[0])]["by_chair"] is True
    assert item["votes"][str(b.entitled[10])] == {
        "choice": "abstain",
        "by_chair": False,
        "at": MEETING_AT,
    }
    assert b.meeting.undecided() == [b.items[1]]
    assert names(b.meeting) == ["VoteCast"] * 11 + ["VoteClosed"]


def test_the_count_uses_the_meetings_own_rules() -> None:
    b = voting(Rules(threshold="majority_of_present"), present=8)
    for member in b.entitled[:5]:
        b.meeting.cast_vote(CHAIR, b.items[0], member, FOR, True, MEETING_AT)
    # 5 of 8 present: adopted by a majority of those present, not of the 15 entitled.
    assert b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT).outcome == Outcome.ADOPTED


def test_without_a_quorum_the_vote_does_not_open() -> None:
    # Article 11: 7 of 15 present is below half; 8 are needed.
    b = opened(present=7)
    refusal = refused(
        b.meeting, lambda: b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT), "no_quorum"
    )
    assert refusal.details == {"present": 7, "entitled": 15, "needed": 8}
    assert b.meeting.items[str(b.items[0])]["status"] == ItemStatus.PENDING


def test_a_stricter_quorum_needs_more_present() -> None:
    b = opened(Rules(quorum="two_thirds"), present=9)
    refusal = refused(
        b.meeting, lambda: b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT), "no_quorum"
    )
    assert refusal.details == {"present": 9, "entitled": 15, "needed": 10}


def test_a_late_arrival_makes_the_quorum_and_it_is_recorded_as_the_vote_opens() -> None:
    b = opened(present=7)
    late = b.entitled[7]
    b.meeting.record_attendance(CHAIR, [late], [], MEETING_AT + timedelta(minutes=10))
    assert names(b.meeting) == ["Arrived"]
    b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT + timedelta(minutes=11))
    [opened_event] = b.meeting.collect_events()
    assert opened_event.quorum == {  # type: ignore[attr-defined]
        "rule": "half",
        "article": 11,
        "entitled": 15,
        "present": 8,
        "needed": 8,
        "reached": True,
    }
    assert b.meeting.movements == [
        {"member": late, "change": "arrived", "at": MEETING_AT + timedelta(minutes=10)}
    ]


def test_a_departure_after_the_vote_opened_does_not_change_its_quorum() -> None:
    b = voting(present=8)
    b.meeting.record_attendance(CHAIR, [], [b.entitled[7]], MEETING_AT)
    assert names(b.meeting) == ["Left"]
    for member in b.entitled[:7]:
        b.meeting.cast_vote(CHAIR, b.items[0], member, FOR, True, MEETING_AT)
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(CHAIR, b.items[0], b.entitled[7], FOR, True, MEETING_AT),
        "not_present",
    )
    tally = b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT)
    assert (tally.present, tally.quorum_reached) == (8, True)
    # The next vote is judged afresh: 7 of 15.
    refused(b.meeting, lambda: b.meeting.open_vote(CHAIR, b.items[1], MEETING_AT), "no_quorum")


def test_attendance_changes_are_refused_when_they_make_no_sense() -> None:
    b = opened(present=7)
    refused(
        b.meeting,
        lambda: b.meeting.record_attendance(CHAIR, [b.entitled[0]], [], MEETING_AT),
        "already_present",
    )
    refused(
        b.meeting,
        lambda: b.meeting.record_attendance(CHAIR, [], [b.entitled[9]], MEETING_AT),
        "not_present",
    )
    with pytest.raises(Invalid):
        b.meeting.record_attendance(CHAIR, [], [], MEETING_AT)
    scheduled = branch()
    refused(
        scheduled.meeting,
        lambda: scheduled.meeting.record_attendance(CHAIR, [scheduled.entitled[0]], [], AT),
        "meeting_not_open",
    )


def test_the_chair_declares_the_meeting_inquorate_and_every_item_is_deferred() -> None:
    b = opened(present=5)
    deferred = b.meeting.declare_inquorate(CHAIR, MEETING_AT)
    assert deferred == b.items
    [event] = b.meeting.collect_events()
    assert type(event).__name__ == "DeclaredInquorate"
    for concern_id in b.items:
        tally = b.meeting.items[str(concern_id)]["tally"]
        assert tally["outcome"] == Outcome.DEFERRED.value
        assert "inquorate" in tally["reason"]
        assert "5 of 15" in tally["reason"]
    refused(b.meeting, lambda: b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT), "vote_closed")
    assert b.meeting.close(CHAIR, "人数不足，改期再议。", MEETING_AT) == []


def test_a_meeting_with_its_quorum_cannot_be_declared_inquorate() -> None:
    b = opened(present=8)
    refusal = refused(
        b.meeting, lambda: b.meeting.declare_inquorate(CHAIR, MEETING_AT), "quorum_present"
    )
    assert refusal.details == {"present": 8, "entitled": 15, "needed": 8}
    b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT)
    b.meeting.record_attendance(CHAIR, [], [b.entitled[1]], MEETING_AT)
    refused(b.meeting, lambda: b.meeting.declare_inquorate(CHAIR, MEETING_AT), "vote_open")


def test_a_committee_session_cites_article_12() -> None:
    entitled = [uuid4() for _ in range(5)]
    meeting = Meeting.schedule(
        title="支委会",
        kind=MeetingKind.COMMITTEE_SESSION,
        scheduled_for=MEETING_AT,
        place="党群服务中心",
        chair=entitled[0],
        eligible_voters=entitled,
        rules=Rules(),
        actor=COMMITTEE,
        at=AT,
    )
    item = uuid4()
    meeting.add_item(COMMITTEE, item, AT)
    meeting.open(CHAIR, entitled[:2], [], MEETING_AT)
    refusal = refused(meeting, lambda: meeting.open_vote(CHAIR, item, MEETING_AT), "no_quorum")
    assert refusal.details == {"present": 2, "entitled": 5, "needed": 3}
    assert "article 12" in str(refusal)
    meeting.record_attendance(CHAIR, [entitled[2]], [], MEETING_AT)
    meeting.open_vote(CHAIR, item, MEETING_AT)
    assert meeting.items[str(item)]["quorum"]["article"] == 12


def test_a_secret_ballots_votes_stored_before_sealing_still_load_and_count() -> None:
    # Before ballots were sealed, a secret ballot's VoteOpened had no ballot box and its
    # VoteCast held the choice: such a log must still load, count and close.
    entitled, item = [uuid4() for _ in range(15)], uuid4()
    m = schedule(entitled, Rules(ballot="secret"))
    m.add_item(COMMITTEE, item, AT)
    m.open(CHAIR, entitled[:9], [], MEETING_AT)
    m._vote_opened(item, CHAIR.id, CHAIR.role.value, MEETING_AT)
    m._vote_cast(item, entitled[1], "for", False, OWNER.id, OWNER.role.value, MEETING_AT)
    loaded = rebuild(list(m.collect_events()))
    loaded.cast_vote(OWNER, item, entitled[2], FOR, False, MEETING_AT)
    tally = loaded.close_vote(CHAIR, item, MEETING_AT)
    assert (tally.votes_for, tally.present) == (2, 9)


def test_a_secret_ballot_seals_each_choice_and_counts_the_ballots_given_at_close() -> None:
    b = opened(Rules(ballot="secret"))
    m = b.meeting
    m.open_vote(CHAIR, b.items[0], MEETING_AT, ballot_box="B-1")
    refused(
        m,
        lambda: m.cast_vote(CHAIR, b.items[0], b.entitled[1], FOR, True, MEETING_AT),
        "secret_ballot",
    )
    for i, member in enumerate(b.entitled[:9]):
        m.cast_vote(OWNER, b.items[0], member, None, False, MEETING_AT, sealed=f"sealed:{i}")
    assert names(m) == ["BallotCast"] * 9
    assert m.voted(b.items[0]) == 9
    assert m.ballot_boxes(b.items) == ["B-1"]
    with pytest.raises(ValueError, match="every ballot"):
        m.close_vote(CHAIR, b.items[0], MEETING_AT, ["for"] * 8)
    tally = m.close_vote(CHAIR, b.items[0], MEETING_AT, ["for"] * 8 + ["against"])
    assert (tally.votes_for, tally.against, tally.outcome) == (8, 1, Outcome.ADOPTED)
    [closed] = m.collect_events()
    assert closed.ballots == ["against"] + ["for"] * 8  # type: ignore[attr-defined]
    assert m.ballot_boxes(b.items) == []


def test_the_meeting_rebuilds_from_its_events() -> None:
    b = branch(items=1)
    events: list[Any] = []
    fresh = schedule(b.entitled)
    events += fresh.collect_events()
    fresh.add_item(COMMITTEE, b.items[0], AT)
    fresh.open(CHAIR, b.entitled[:9], sealed(["居民代表"]), MEETING_AT)
    fresh.open_vote(CHAIR, b.items[0], MEETING_AT)
    for i, member in enumerate(b.entitled[:9]):
        fresh.cast_vote(CHAIR, b.items[0], member, [FOR, AGAINST, ABSTAIN][i % 3], True, MEETING_AT)
    fresh.close_vote(CHAIR, b.items[0], MEETING_AT)
    fresh.close(CHAIR, "会议记录", MEETING_AT)
    events += fresh.collect_events()

    assert snapshot(rebuild(events)) == snapshot(fresh)
    assert fresh.version == len(events)


# -- refusals of a vote ---------------------------------------------------------------------------


def test_a_member_votes_once() -> None:
    b = voting()
    member = b.entitled[3]
    b.meeting.cast_vote(OWNER, b.items[0], member, FOR, False, MEETING_AT)
    conflict = refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, b.items[0], member, AGAINST, False, MEETING_AT),
        "already_voted",
    )
    assert "already voted" in str(conflict)
    # Nor may the chair record a second vote for them.
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(CHAIR, b.items[0], member, FOR, True, MEETING_AT),
        "already_voted",
    )
    assert b.meeting.tally(b.items[0]).votes_for == 1


def test_a_member_not_entitled_does_not_vote_even_when_present() -> None:
    b = voting()
    assert b.probationary in b.meeting.present
    conflict = refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, b.items[0], b.probationary, FOR, False, MEETING_AT),
        "not_entitled",
    )
    assert "not entitled" in str(conflict)


def test_a_stranger_does_not_vote() -> None:
    b = voting()
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, b.items[0], uuid4(), FOR, False, MEETING_AT),
        "not_entitled",
    )


def test_an_absent_member_does_not_vote() -> None:
    b = voting()
    absent = b.entitled[14]
    assert absent not in b.meeting.present
    conflict = refused(
        b.meeting,
        lambda: b.meeting.cast_vote(CHAIR, b.items[0], absent, FOR, True, MEETING_AT),
        "not_present",
    )
    assert "present" in str(conflict)


def test_no_vote_before_the_vote_is_opened() -> None:
    b = opened()
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, b.items[0], b.entitled[1], FOR, False, MEETING_AT),
        "vote_not_open",
    )


def test_no_vote_before_the_meeting_is_opened() -> None:
    b = branch()
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, b.items[0], b.entitled[1], FOR, False, MEETING_AT),
        "meeting_not_open",
    )


def test_no_vote_after_the_vote_is_closed() -> None:
    b = voting()
    b.meeting.cast_vote(OWNER, b.items[0], b.entitled[1], FOR, False, MEETING_AT)
    b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT)
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, b.items[0], b.entitled[2], FOR, False, MEETING_AT),
        "vote_closed",
    )
    assert b.meeting.items[str(b.items[0])]["tally"]["voted"] == 1


def test_no_vote_after_the_meeting_is_closed() -> None:
    b = voting()
    b.meeting.close(CHAIR, "会议记录", MEETING_AT)
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, b.items[0], b.entitled[2], FOR, False, MEETING_AT),
        "meeting_closed",
    )


def test_no_vote_on_a_concern_not_on_the_agenda() -> None:
    b = voting()
    refused(
        b.meeting,
        lambda: b.meeting.cast_vote(OWNER, uuid4(), b.entitled[2], FOR, False, MEETING_AT),
        "not_on_agenda",
    )


# -- refusals of the chair's steps ----------------------------------------------------------------


def test_a_vote_is_opened_once() -> None:
    b = voting()
    refused(
        b.meeting, lambda: b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT), "vote_already_open"
    )


def test_a_decided_item_is_not_voted_on_again() -> None:
    b = voting()
    b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT)
    refused(b.meeting, lambda: b.meeting.open_vote(CHAIR, b.items[0], MEETING_AT), "vote_closed")


def test_no_vote_is_opened_before_the_meeting_opens() -> None:
    b = branch()
    refused(b.meeting, lambda: b.meeting.open_vote(CHAIR, b.items[0], AT), "meeting_not_open")


def test_no_vote_is_opened_on_a_concern_not_on_the_agenda() -> None:
    b = opened()
    refused(b.meeting, lambda: b.meeting.open_vote(CHAIR, uuid4(), MEETING_AT), "not_on_agenda")


def test_a_vote_not_opened_cannot_be_closed() -> None:
    b = opened()
    refused(b.meeting, lambda: b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT), "vote_not_open")


def test_a_vote_is_closed_once() -> None:
    b = voting()
    b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT)
    refused(b.meeting, lambda: b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT), "vote_closed")


def test_a_meeting_not_opened_cannot_be_closed() -> None:
    b = branch()
    refused(b.meeting, lambda: b.meeting.close(CHAIR, "会议记录", AT), "meeting_not_open")


def test_a_meeting_is_closed_once() -> None:
    b = opened()
    b.meeting.close(CHAIR, "会议记录", MEETING_AT)
    refused(b.meeting, lambda: b.meeting.close(CHAIR, "再次", MEETING_AT), "meeting_closed")
    assert b.meeting.minutes == "会议记录"


@pytest.mark.parametrize("minutes", ["", "  \n "])
def test_closing_needs_minutes(minutes: str) -> None:
    b = opened()
    before = snapshot(b.meeting)
    with pytest.raises(Invalid) as raised:
        b.meeting.close(CHAIR, minutes, MEETING_AT)
    assert [f for f, _ in raised.value.fields] == ["minutes"]
    assert b.meeting.collect_events() == []
    assert snapshot(b.meeting) == before


# -- closing the meeting ------------------------------------------------------------------------


def test_closing_defers_every_undecided_item_and_keeps_the_decided_ones() -> None:
    b = branch(items=3)
    decided, voting_item, pending = b.items
    b.meeting.open(CHAIR, b.entitled[:11], [], MEETING_AT)
    b.meeting.open_vote(CHAIR, decided, MEETING_AT)
    for member in b.entitled[:9]:
        b.meeting.cast_vote(CHAIR, decided, member, FOR, True, MEETING_AT)
    adopted = b.meeting.close_vote(CHAIR, decided, MEETING_AT)
    b.meeting.open_vote(CHAIR, voting_item, MEETING_AT)
    for member in b.entitled[:3]:
        b.meeting.cast_vote(CHAIR, voting_item, member, AGAINST, True, MEETING_AT)
    b.meeting.collect_events()

    deferred = b.meeting.close(
        CHAIR, "  议定路灯维修，其余下次再议  ", MEETING_AT + timedelta(hours=2)
    )

    assert deferred == [voting_item, pending]
    assert b.meeting.status == MeetingStatus.CLOSED
    assert b.meeting.minutes == "议定路灯维修，其余下次再议"
    assert b.meeting.closed_at == MEETING_AT + timedelta(hours=2)
    assert b.meeting.undecided() == []
    assert b.meeting.items[str(decided)]["tally"] == adopted.as_dict()
    for concern in (voting_item, pending):
        tally = b.meeting.items[str(concern)]["tally"]
        assert b.meeting.items[str(concern)]["status"] == ItemStatus.DECIDED
        assert tally["outcome"] == "deferred"
        assert tally["reason"] == "undecided when the meeting closed"
    # The votes already cast on the open item stay counted in its record.
    assert b.meeting.items[str(voting_item)]["tally"]["against"] == 3
    assert b.meeting.items[str(pending)]["tally"]["voted"] == 0
    assert names(b.meeting) == ["Closed"]


def test_closing_with_everything_decided_defers_nothing() -> None:
    b = voting()
    b.meeting.close_vote(CHAIR, b.items[0], MEETING_AT)
    b.meeting.open_vote(CHAIR, b.items[1], MEETING_AT)
    b.meeting.close_vote(CHAIR, b.items[1], MEETING_AT)
    assert b.meeting.close(CHAIR, "会议记录", MEETING_AT) == []
