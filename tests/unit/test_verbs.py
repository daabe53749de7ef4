"""Every verb of every application service, on the in-memory store: no database at all.

The concern's verbs are generated from the lifecycle table (domain/lifecycle.py): one test
per row and source state, which brings a concern to that state through the services, runs
the row's action as one of the roles the row names, and checks what a caller would see:
the new status, and who the event says acted. The other verbs (meetings, members, visits,
erasure, idempotency) follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from application.commands import CommandResult, Idempotency, NewConcern, NewVisit
from application.disclosure import disclose
from application.meeting_views import meeting_view, minutes
from application.residents import erase_personal_data
from domain.errors import Conflict, Forbidden, Invalid, TransitionNotAllowed, VersionMismatch
from domain.lifecycle import TRANSITIONS, Action, Status, Transition
from domain.residents import ResidentData
from domain.vocabulary import (
    Category,
    Channel,
    DutyRole,
    Library,
    PriorityVisit,
    Role,
    Satisfaction,
)
from domain.voting import Choice
from tests.unit.verbs_support import (
    ADMIN,
    COLLECTOR,
    COMMITTEE,
    GRID_LEADER,
    RESIDENT,
    STAFF,
    SUPERVISOR,
    Office,
    open_office,
    person,
)


@pytest.fixture
def office() -> Office:
    return open_office()


# -- the lifecycle table, row by row ----------------------------------------------------------


def reach(office: Office, status: Status, *, adopted: bool = False) -> UUID:
    """A concern brought to `status` through the services (adopted at a meeting if asked)."""
    app, concern = office.app, office.raise_concern()
    if status in (Status.COMMITTEE, Status.BRANCH_MEETING):
        app.refer(concern, GRID_LEADER)
    if status is Status.BRANCH_MEETING:
        meeting = office.meeting(concern)
        if adopted:
            _vote(office, meeting, concern, Choice.FOR)
            app.close_vote(meeting, office.chair(meeting), concern)
    if status in (Status.ASSIGNED, Status.RESOLVED):
        app.handle_now(concern, STAFF, office.owner, DutyRole.ENVIRONMENT_MONITOR, office.due())
    if status is Status.RESOLVED:
        app.resolve(concern, office.owner_principal, "已更换灯泡，居民确认夜间照明恢复")
    return concern


def _vote(office: Office, meeting: UUID, concern: UUID, choice: Choice) -> None:
    app = office.app
    app.open_meeting(meeting, office.chair(meeting), office.voters)
    app.open_vote(meeting, office.chair(meeting), concern)
    for member in office.voters:
        app.cast_vote(meeting, office.voter(member), concern, choice)


def _meeting_of(office: Office, concern: UUID) -> UUID:
    meeting = office.app.get_concern(concern).meeting_id
    assert meeting is not None
    return meeting


def _outcome(choice: Choice | None) -> Callable[[Office, UUID], CommandResult]:
    def close(office: Office, concern: UUID) -> CommandResult:
        meeting = _meeting_of(office, concern)
        if choice is None:  # nobody voted: closing the meeting defers the item
            office.app.open_meeting(meeting, office.chair(meeting), office.voters)
            return office.app.close_meeting(meeting, office.chair(meeting), "议题暂缓")
        _vote(office, meeting, concern, choice)
        return office.app.close_vote(meeting, office.chair(meeting), concern)

    return close


def _assign(office: Office, concern: UUID) -> CommandResult:
    app, owner, due = office.app, office.owner, office.due()
    meeting = app.get_concern(concern).meeting_id
    who = office.chair(meeting) if meeting else COMMITTEE
    return app.assign(concern, who, owner, DutyRole.ENVIRONMENT_MONITOR, due, "会议议定")


# What each action's caller sends: one way per action (and per guard of a row).
PERFORM: dict[tuple[Action, str | None], Callable[[Office, UUID], CommandResult]] = {
    (Action.REFER, None): lambda o, c: o.app.refer(c, GRID_LEADER, "需支委会研究"),
    (Action.HANDLE_NOW, None): lambda o, c: o.app.handle_now(
        c, STAFF, o.owner, DutyRole.ENVIRONMENT_MONITOR, o.due()
    ),
    (Action.DECLINE, None): lambda o, c: o.app.decline(c, STAFF, "不属于社区职责范围"),
    (Action.MERGE_INTO, None): lambda o, c: o.app.merge(c, STAFF, o.raise_concern()),
    (Action.WITHDRAW, None): lambda o, c: o.app.withdraw(c, STAFF, "居民已自行解决"),
    (Action.SHORTLIST, None): lambda o, c: o.app.shortlist(o.meeting(), COMMITTEE, c),
    (Action.ASSIGN, None): _assign,
    (Action.ASSIGN, "adopted_at_meeting"): _assign,
    (Action.RETURN_FOR_INFO, None): lambda o, c: o.app.return_for_info(c, COMMITTEE, "缺楼栋号"),
    (Action.ADOPT, None): _outcome(Choice.FOR),
    (Action.REJECT, None): _outcome(Choice.AGAINST),
    (Action.DEFER, None): _outcome(None),
    (Action.RECORD_PROGRESS, None): lambda o, c: o.app.record_progress(
        c, o.owner_principal, "已联系路灯维修所"
    ),
    (Action.EXTEND_DEADLINE, None): lambda o, c: o.app.extend_deadline(
        c, COMMITTEE, o.due(30), "等待配件到货"
    ),
    (Action.REASSIGN, None): lambda o, c: o.app.reassign(
        c, COMMITTEE, o.voters[1], DutyRole.MEDIATOR, "原负责人外出培训"
    ),
    (Action.SEND_BACK, None): lambda o, c: o.app.send_back(c, o.owner_principal, "需要街道协调"),
    (Action.RESOLVE, None): lambda o, c: o.app.resolve(c, o.owner_principal, "已更换灯泡"),
    (Action.RECORD_FEEDBACK, "feedback_closes"): lambda o, c: o.app.record_feedback(
        c, COLLECTOR, True, Satisfaction.SATISFIED, "灯亮了"
    ),
    (Action.RECORD_FEEDBACK, "feedback_reopens"): lambda o, c: o.app.record_feedback(
        c, COLLECTOR, False, Satisfaction.DISSATISFIED, "还是不亮"
    ),
    (Action.REOPEN, None): lambda o, c: o.app.reopen(c, STAFF, "居民反映再次损坏"),
    (Action.ADD_MILESTONE, None): lambda o, c: o.app.add_milestone(
        c, o.owner_principal, "采购灯泡", o.due()
    ),
    (Action.COMPLETE_MILESTONE, "milestone_open"): lambda o, c: o.app.complete_milestone(
        c, o.owner_principal, _first_milestone(o, c), "灯泡已到货"
    ),
    (Action.WRITE_OFF, "fulfilled"): lambda o, c: o.app.write_off(c, STAFF, "承诺已兑现"),
    (Action.VOID, None): lambda o, c: _void(o, c),
}


def _void(office: Office, concern: UUID) -> CommandResult:
    # Staff propose, a supervisor approves: the approval is the table's row.
    office.app.propose_void(concern, STAFF, "不符合立案条件：重复登记")
    return office.app.approve_void(concern, SUPERVISOR)


def _first_milestone(office: Office, concern: UUID) -> UUID:
    found: UUID = office.app.get_concern(concern).milestones[0]["id"]
    return found


@dataclass(frozen=True)
class Case:
    """One row of the table, from one of its source states."""

    row: Transition
    source: Status

    def __str__(self) -> str:
        guard = f"[{self.row.guard}]" if self.row.guard else ""
        return f"{self.row.action.value}:{self.source.value}->{self.row.dest.value}{guard}"


CASES = [Case(row, source) for row in TRANSITIONS for source in row.sources]


def test_every_row_of_the_lifecycle_has_a_way_to_perform_it() -> None:
    missing = {(c.row.action, c.row.guard) for c in CASES} - set(PERFORM)
    assert not missing, f"add to PERFORM: {sorted(str(m) for m in missing)}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_row_of_the_lifecycle_moves_the_concern_and_says_who(
    office: Office, case: Case
) -> None:
    adopted = case.row.guard == "adopted_at_meeting"
    concern = reach(office, case.source, adopted=adopted)
    if case.row.guard == "fulfilled":
        office.app.record_feedback(concern, COLLECTOR, True, Satisfaction.SATISFIED, "灯亮了")
    if case.row.guard == "milestone_open":
        office.app.add_milestone(concern, STAFF, "采购灯泡", office.due())
    before = office.app.get_concern(concern).version

    PERFORM[(case.row.action, case.row.guard)](office, concern)

    after = office.app.get_concern(concern)
    assert Status(after.status) is case.row.dest
    assert after.version > before
    last = list(office.app.events.get(concern))[-1]
    allowed = {r.value for r in case.row.roles} | ({"member"} if case.row.owner_may else set())
    assert last.actor_role in allowed  # type: ignore[attr-defined]


# -- raising, reading, tracking ---------------------------------------------------------------


def test_raise_gives_a_reference_a_tracking_code_and_seals_the_residents_data(
    office: Office,
) -> None:
    draft = NewConcern(
        title="楼道堆物",
        description="3单元楼道堆满杂物，影响消防通道",
        category=Category.ENVIRONMENT,
        library=Library.PROBLEM,
        channel=Channel.VISIT,
        grid="2",
        resident=RESIDENT,
    )
    result = office.app.raise_concern(GRID_LEADER, draft)
    concern = office.app.get_concern(UUID(result.id))

    assert result.reference == "MQ-2026-000001"
    assert result.tracking_code is not None
    assert len(result.tracking_code) == 12
    assert result.position > 0
    assert concern.resident_data is not None
    assert "张秀英" not in concern.resident_data
    assert office.app.concern_view(concern, STAFF)["resident"]["name"] == "张秀英"
    assert office.app.concern_view(concern, COMMITTEE)["resident"] == {"redacted": True}
    assert office.app.track(result.tracking_code.lower()).id == concern.id
    assert office.app.concern_by_reference("MQ-2026-000001").id == concern.id
    assert office.app.history(concern.id)[0]["type"] == "Raised"


def test_an_anonymous_concern_carries_no_personal_data(office: Office) -> None:
    with pytest.raises(Invalid, match="anonymous"):
        office.raise_concern(anonymous=True)
    concern = office.raise_concern(anonymous=True, resident=ResidentData())
    assert office.app.get_concern(concern).resident_ref is None


def test_a_resident_answers_by_tracking_code_and_sees_the_public_view(office: Office) -> None:
    concern = reach(office, Status.RESOLVED)
    code = office.app.get_concern(concern).tracking_code

    office.app.feedback_by_tracking_code(code, True, Satisfaction.SATISFIED, "谢谢")

    public = office.app.public_view(office.app.track(code))
    assert public["status"] == "resolved"
    assert public["awaiting_feedback"] is False
    assert [s["type"] for s in public["steps"]][-1] == "FeedbackRecorded"
    assert "resident" not in public


def test_a_role_the_table_does_not_name_is_refused(office: Office) -> None:
    concern = office.raise_concern()
    with pytest.raises(Forbidden):
        office.app.refer(concern, COLLECTOR)
    with pytest.raises(TransitionNotAllowed):
        office.app.resolve(concern, STAFF, "还没交办")
    assert office.events(concern) == ["Raised"]


def test_the_deadline_watcher_records_a_missed_due_date_and_overdue_feedback_once(
    office: Office,
) -> None:
    late = reach(office, Status.ASSIGNED)
    office.clock.now += timedelta(days=20)

    assert office.app.record_missed_deadlines(late, 7) == ["DeadlineMissed"]
    assert office.app.record_missed_deadlines(late, 7) == []
    office.app.resolve(late, office.owner_principal, "终于修好")
    office.clock.now += timedelta(days=8)
    assert office.app.record_missed_deadlines(late, 7) == ["FeedbackOverdue"]
    assert office.events(late).count("FeedbackOverdue") == 1


def test_the_public_view_gives_a_fact_the_status_the_concern_was_in(office: Office) -> None:
    late = reach(office, Status.ASSIGNED)
    office.clock.now += timedelta(days=20)
    office.app.record_missed_deadlines(late, 7)
    office.app.resolve(late, office.owner_principal, "终于修好")
    office.clock.now += timedelta(days=8)
    office.app.record_missed_deadlines(late, 7)

    public = office.app.public_view(office.app.get_concern(late))
    steps = {s["type"]: s["status"] for s in public["steps"]}
    # Facts change no status: each shows the one it happened in, never "intake".
    assert steps["DeadlineMissed"] == "assigned"
    assert steps["FeedbackOverdue"] == "resolved"


def test_version_at_and_history_read_the_concern_as_it_was(office: Office) -> None:
    # `as_of` reads the events' recording times (the library's, not the office clock).
    before = datetime.now(UTC)
    concern = office.raise_concern()
    office.app.refer(concern, STAFF)

    assert office.app.version_at(concern, before) == 0
    assert office.app.version_at(concern, datetime.now(UTC)) == 2
    assert office.app.get_concern(concern, version=1).status == "intake"
    assert [e["type"] for e in office.app.history(concern)] == ["Raised", "Referred"]


# -- idempotency and If-Match -----------------------------------------------------------------


def test_the_same_idempotency_key_answers_again_and_records_nothing_more(office: Office) -> None:
    concern = office.raise_concern()
    key = Idempotency(STAFF.id, "k-1", "fingerprint-a")

    first = office.app.refer(concern, STAFF, "请研究", idem=key)
    again = office.app.refer(concern, STAFF, "请研究", idem=key)

    assert again.replayed
    assert not first.replayed
    assert (again.id, again.version, again.position) == (first.id, first.version, first.position)
    assert office.events(concern) == ["Raised", "Referred"]
    with pytest.raises(Invalid, match="Idempotency-Key"):
        office.app.refer(concern, STAFF, "另一个请求", idem=Idempotency(STAFF.id, "k-1", "b"))


def test_a_new_concern_under_a_used_key_is_the_first_one_again(office: Office) -> None:
    key = Idempotency(STAFF.id, "raise-1", "same")
    draft = NewConcern("路灯", "不亮", Category.ENVIRONMENT, Library.PROBLEM, Channel.VISIT, "2")
    first = office.app.raise_concern(STAFF, draft, key)
    again = office.app.raise_concern(STAFF, draft, key)
    assert again.replayed
    assert again.reference == first.reference
    assert again.position == first.position


def test_a_stale_version_is_refused_and_changes_nothing(office: Office) -> None:
    concern = office.raise_concern()
    with pytest.raises(VersionMismatch) as refused:
        office.app.refer(concern, STAFF, expected_version=7)
    assert refused.value.current == 1
    assert office.app.refer(concern, STAFF, expected_version=1).version == 2


# -- meetings ---------------------------------------------------------------------------------


def test_a_meeting_from_schedule_to_minutes(office: Office) -> None:
    adopted, deferred = reach(office, Status.COMMITTEE), reach(office, Status.COMMITTEE)
    meeting = office.meeting(adopted, deferred)
    chair = office.chair(meeting)
    office.app.open_meeting(meeting, chair, office.voters, ["居民代表李大爷"])
    office.app.open_vote(meeting, chair, adopted)
    office.app.cast_vote(meeting, office.voter(office.voters[0]), adopted, Choice.FOR)
    # The chair records the others' show of hands.
    for member in office.voters[1:]:
        shown = office.app.cast_vote(meeting, chair, adopted, Choice.FOR, voter=member)
        assert (shown.extra or {}).get("by_chair") is True
    closed = office.app.close_vote(meeting, chair, adopted)
    assert (closed.extra or {}).get("outcome") == "adopted"
    office.app.close_meeting(meeting, chair, "议定：加装路灯")

    assert office.status(deferred) is Status.COMMITTEE
    view = meeting_view(office.app, office.app.get_meeting(meeting))
    assert view["status"] == "closed"
    assert view["resident_representatives"] == ["居民代表李大爷"]
    record = minutes(office.app, office.app.get_meeting(meeting))
    assert [i["decision"] for i in record["items"]] == ["adopted", "deferred"]
    assert [m["name"] for m in record["attendance"]["present"]] == ["党员0", "党员1", "党员2"]
    assert office.app.list_meetings()[0].id == meeting
    assert office.app.meeting_history(meeting)[0]["type"] == "Scheduled"


def test_attendance_changes_and_the_quorum_judged_as_each_vote_opens(office: Office) -> None:
    first, second = reach(office, Status.COMMITTEE), reach(office, Status.COMMITTEE)
    meeting = office.meeting(first, second)
    chair = office.chair(meeting)
    # One of three present: two are needed.
    opened = office.app.open_meeting(meeting, chair, office.voters[:1])
    assert (opened.extra or {})["quorum"]["needed"] == 2
    with pytest.raises(Conflict) as refused:
        office.app.open_vote(meeting, chair, first)
    assert (refused.value.rule, refused.value.details) == (
        "no_quorum",
        {"present": 1, "entitled": 3, "needed": 2},
    )
    came = office.app.record_attendance(meeting, chair, [office.voters[1]], [])
    assert (came.extra or {})["quorum"]["reached"] is True
    office.app.open_vote(meeting, chair, first)
    office.app.record_attendance(meeting, chair, [], [office.voters[1]])
    assert office.events(meeting)[-3:] == ["Arrived", "VoteOpened", "Left"]
    assert office.app.get_meeting(meeting).items[str(first)]["quorum"]["present"] == 2


def test_the_chair_declares_the_meeting_inquorate_and_its_items_go_back(office: Office) -> None:
    concern = reach(office, Status.COMMITTEE)
    meeting = office.meeting(concern)
    chair = office.chair(meeting)
    office.app.open_meeting(meeting, chair, office.voters[:1])
    declared = office.app.declare_inquorate(meeting, chair)
    assert (declared.extra or {})["deferred"] == [str(concern)]
    assert office.status(concern) is Status.COMMITTEE
    assert office.events(concern)[-1] == "DeferredAtMeeting"
    tally = office.app.get_meeting(meeting).items[str(concern)]["tally"]
    assert "declared the meeting inquorate: 1 of 3" in tally["reason"]


def test_only_the_meetings_own_chair_runs_it(office: Office) -> None:
    meeting = office.meeting(reach(office, Status.COMMITTEE))
    other_chair = person("other-chair", Role.CHAIR, member=office.voters[1])
    with pytest.raises(Forbidden, match="chair"):
        office.app.open_meeting(meeting, other_chair, office.voters)


# -- members and visits -----------------------------------------------------------------------


def test_members_are_registered_and_listed_in_order(office: Office) -> None:
    result = office.app.register_member(STAFF, "赵敏", ["2", "3"], [DutyRole.MEDIATOR], False)
    member = office.app.get_member(UUID(result.id))
    assert (member.name, member.grids, member.votes_in_branch) == ("赵敏", ["2", "3"], False)
    assert [m.name for m in office.app.list_members()][-1] == "赵敏"
    with pytest.raises(Forbidden):
        office.app.register_member(COLLECTOR, "钱七", ["2"], [DutyRole.MEDIATOR], False)


def test_a_visit_seals_its_household_and_links_its_concerns(office: Office) -> None:
    concern = office.raise_concern()
    visit = NewVisit(
        grid="2",
        household="幸福里5号楼2单元301",
        visited_on=office.clock.now.date(),
        priority_visit=PriorityVisit.ELDERLY_SICK,
        concern_ids=[concern],
    )
    recorded = office.app.get_visit(UUID(office.app.record_visit(COLLECTOR, visit).id))

    assert recorded.concern_ids == [concern]
    assert office.app.household_of(recorded) == "幸福里5号楼2单元301"
    assert "幸福里" not in str(recorded.household_sealed)


# -- residents' personal data -----------------------------------------------------------------


def test_erasing_a_resident_destroys_their_key_once(office: Office) -> None:
    concern = office.app.get_concern(office.raise_concern())
    ref = concern.resident_ref
    assert ref is not None

    erased = erase_personal_data(office.app, ADMIN, ref)

    assert erased.position > 0
    assert office.app.concern_view(concern, STAFF)["resident"] == {"erased": True}
    with pytest.raises(Conflict, match="already erased"):
        erase_personal_data(office.app, ADMIN, ref)
    with pytest.raises(Forbidden):
        erase_personal_data(office.app, STAFF, ref)


def test_a_supervisor_sees_personal_data_with_a_reason_and_the_read_is_logged(
    office: Office,
) -> None:
    concern = office.app.get_concern(office.raise_concern())
    view = office.app.concern_view(concern, SUPERVISOR)

    shown = disclose(office.app, SUPERVISOR, concern, view, reason="投诉核查")

    assert shown["resident"]["phone"] == "13812345678"
    page, _ = office.app.ports.access_log.entries(concern_id=str(concern.id))
    assert [(e["basis"], e["reason"]) for e in page] == [("supervisor", "投诉核查")]
    with pytest.raises(Invalid, match="reason"):
        disclose(office.app, SUPERVISOR, concern, view, reveal=True)
