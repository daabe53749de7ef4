"""The lifecycle table, tested row by row and pair by pair from `domain.lifecycle.TRANSITIONS`.

Every row of the table is a test case, and so is every (action, status) pair the table does
not have, so a row added to or dropped from the table changes what is tested here.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from uuid import UUID

import pytest

from domain.concern import Assignment, Concern
from domain.errors import Invalid, TransitionNotAllowed
from domain.lifecycle import (
    TERMINAL,
    TRANSITIONS,
    Action,
    Facts,
    Status,
    Transition,
    allowed_actions,
    as_json,
    mermaid,
    next_status,
    rows_for,
)
from domain.vocabulary import DutyRole, Satisfaction
from tests.unit.builders import (
    AT,
    CHAIR,
    COLLECTOR,
    COMMAND_ACTIONS,
    COMMITTEE,
    DUE,
    LI_QIANG,
    MEETING_ID,
    MEETING_TITLE,
    OWNER,
    REACHABLE,
    STAFF,
    TALLIES,
    ZHAO_MIN,
    Command,
    command_for_row,
    concern_at,
    concern_for_row,
    in_table,
    perform,
    snapshot,
)

OTHER_MEETING = UUID("00000000-0000-4000-8000-0000000000bb")

# -- the cases, generated from the table ----------------------------------------------------

# Facts that let each guard pass, so a row can be taken at the pure level.
GUARD_FACTS: dict[str | None, Facts] = {
    None: Facts(),
    "adopted_at_meeting": Facts(adopted_at_meeting=True),
    "feedback_pending": Facts(feedback_pending=True),
    "feedback_closes": Facts(feedback_pending=True, reopens=False),
    "feedback_reopens": Facts(feedback_pending=True, reopens=True),
    "fulfilled": Facts(fulfilled=True),
    "milestone_open": Facts(milestone_open=True),
}
ALL_FACTS = [
    Facts(adopted_at_meeting=a, feedback_pending=f, reopens=r, fulfilled=d, milestone_open=m)
    for a, f, r, d, m in itertools.product([False, True], repeat=5)
]


def _row_id(row: Transition, source: Status) -> str:
    base = f"{row.action.value}-from-{source.value}"
    # record_feedback has two rows out of resolved, told apart by their guard.
    twins = [t for t in TRANSITIONS if t.action == row.action and source in t.sources]
    return f"{base}-{row.guard}" if len(twins) > 1 and row.guard else base


ROW_CASES = [
    pytest.param(row, source, id=_row_id(row, source))
    for row in TRANSITIONS
    for source in row.sources
]

MISSING_PAIRS = [(a, s) for a in Action for s in Status if not in_table(a, s)]
MISSING_CASES = [pytest.param(a, s, id=f"{a.value}-from-{s.value}") for a, s in MISSING_PAIRS]


# Every row is taken by the Concern's own command, from a concern the real commands put in
# the row's source status (branch_meeting through shortlist; the chair's assign after the
# meeting's adoption).
COMMAND_ROW_CASES = ROW_CASES

COMMAND_MISSING_CASES = [
    pytest.param(a, s, id=f"{a.value}-from-{s.value}")
    for a, s in MISSING_PAIRS
    if a in COMMAND_ACTIONS
]


def test_every_action_has_a_command_and_every_status_is_reached_by_commands() -> None:
    assert set(COMMAND_ACTIONS) == set(Action)
    assert set(REACHABLE) == set(Status)
    assert len(COMMAND_MISSING_CASES) == len(MISSING_CASES)


def test_the_table_is_non_trivial_and_every_action_and_status_appears() -> None:
    assert {t.action for t in TRANSITIONS} == set(Action)
    appears = {s for t in TRANSITIONS for s in t.sources} | {t.dest for t in TRANSITIONS}
    assert appears == set(Status)
    assert len(ROW_CASES) > len(TRANSITIONS)
    assert MISSING_PAIRS


# -- the pure lifecycle: next_status and allowed_actions ------------------------------------


@pytest.mark.parametrize(("row", "source"), ROW_CASES)
def test_next_status_follows_each_row_of_the_table(row: Transition, source: Status) -> None:
    assert next_status(source, row.action, GUARD_FACTS[row.guard]) == row.dest


@pytest.mark.parametrize(("action", "status"), MISSING_CASES)
def test_next_status_refuses_every_pair_not_in_the_table(action: Action, status: Status) -> None:
    for facts in ALL_FACTS:
        with pytest.raises(TransitionNotAllowed) as refused:
            next_status(status, action, facts)
        assert refused.value.status == status
        assert refused.value.action == action
        assert refused.value.allowed == allowed_actions(status, facts)
        assert action not in refused.value.allowed


@pytest.mark.parametrize("status", list(Status), ids=[s.value for s in Status])
def test_allowed_actions_are_the_rows_out_of_a_status_whose_guard_passes(status: Status) -> None:
    for facts in ALL_FACTS:
        expected = {
            t.action
            for t in TRANSITIONS
            if status in t.sources and (t.guard is None or _guard_passes(t.guard, facts))
        }
        allowed = allowed_actions(status, facts)
        assert set(allowed) == expected
        assert len(allowed) == len(set(allowed))


def _guard_passes(guard: str, facts: Facts) -> bool:
    return {
        "adopted_at_meeting": facts.adopted_at_meeting,
        "feedback_pending": facts.feedback_pending,
        "feedback_closes": facts.feedback_pending and not facts.reopens,
        "feedback_reopens": facts.feedback_pending and facts.reopens,
        "fulfilled": facts.fulfilled,
        "milestone_open": facts.milestone_open,
    }[guard]


@pytest.mark.parametrize("status", sorted(TERMINAL), ids=[s.value for s in sorted(TERMINAL)])
def test_a_terminal_status_allows_nothing(status: Status) -> None:
    for facts in ALL_FACTS:
        assert allowed_actions(status, facts) == []


def test_the_chair_may_not_assign_from_branch_meeting_before_adoption() -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        next_status(Status.BRANCH_MEETING, Action.ASSIGN, Facts())
    assert Action.ASSIGN not in refused.value.allowed
    assert next_status(Status.BRANCH_MEETING, Action.ASSIGN, Facts(adopted_at_meeting=True)) == (
        Status.ASSIGNED
    )


def test_feedback_is_refused_when_none_is_pending() -> None:
    for reopens in (False, True):
        with pytest.raises(TransitionNotAllowed):
            next_status(Status.RESOLVED, Action.RECORD_FEEDBACK, Facts(reopens=reopens))


def test_rows_for_picks_the_feedback_row_by_its_guard() -> None:
    closes = rows_for(Action.RECORD_FEEDBACK, Status.RESOLVED, Facts(feedback_pending=True))
    reopens = rows_for(
        Action.RECORD_FEEDBACK, Status.RESOLVED, Facts(feedback_pending=True, reopens=True)
    )
    assert [r.dest for r in closes] == [Status.RESOLVED]
    assert [r.dest for r in reopens] == [Status.ASSIGNED]
    assert rows_for(Action.RECORD_FEEDBACK, Status.RESOLVED, Facts()) == []


# -- the Concern's commands, row by row -----------------------------------------------------


@pytest.mark.parametrize(("row", "source"), COMMAND_ROW_CASES)
def test_the_command_moves_the_concern_along_each_row(row: Transition, source: Status) -> None:
    concern = concern_for_row(row, source)
    version = concern.version

    perform(concern, command_for_row(row))

    assert concern.status == row.dest.value
    events = concern.collect_events()
    assert events
    assert concern.version == version + len(events)


@pytest.mark.parametrize(("action", "status"), COMMAND_MISSING_CASES)
def test_the_command_is_refused_for_every_pair_not_in_the_table(
    action: Action, status: Status
) -> None:
    concern = concern_at(status)
    before = snapshot(concern)
    facts = concern.facts

    with pytest.raises(TransitionNotAllowed) as refused:
        perform(concern, Command(action))

    assert refused.value.status == status
    assert refused.value.action == action
    assert refused.value.allowed == allowed_actions(status, facts)
    assert len(concern.collect_events()) == 0
    assert snapshot(concern) == before


# -- record_feedback's guards ---------------------------------------------------------------


def _feedback(concern: Concern, solved: bool, satisfaction: Satisfaction) -> None:
    concern.record_feedback(COLLECTOR, solved, satisfaction, "thank you", AT)


@pytest.mark.parametrize("satisfaction", [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED])
def test_solved_and_satisfied_feedback_keeps_the_concern_resolved(
    satisfaction: Satisfaction,
) -> None:
    concern = concern_at(Status.RESOLVED)
    assert concern.feedback_pending

    _feedback(concern, True, satisfaction)

    assert concern.status == Status.RESOLVED.value
    assert concern.round == 1
    assert not concern.feedback_pending
    assert concern.feedback == [
        {"solved": True, "satisfaction": satisfaction.value, "at": AT, "round": 1}
    ]
    assert [type(e).__name__ for e in concern.collect_events()] == ["FeedbackRecorded"]


@pytest.mark.parametrize("satisfaction", [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED])
def test_feedback_not_solved_reopens_the_concern_in_round_two(
    satisfaction: Satisfaction,
) -> None:
    concern = concern_at(Status.RESOLVED)

    _feedback(concern, False, satisfaction)

    assert concern.status == Status.ASSIGNED.value
    assert concern.round == 2
    assert concern.reason == "resident reported not solved"
    assert concern.summary is None
    assert concern.owner == LI_QIANG
    assert [type(e).__name__ for e in concern.collect_events()] == [
        "FeedbackRecorded",
        "Reopened",
    ]


def test_dissatisfied_feedback_reopens_the_concern_even_when_solved() -> None:
    concern = concern_at(Status.RESOLVED)

    _feedback(concern, True, Satisfaction.DISSATISFIED)

    assert concern.status == Status.ASSIGNED.value
    assert concern.round == 2
    assert concern.reason == "resident dissatisfied"
    assert [type(e).__name__ for e in concern.collect_events()] == [
        "FeedbackRecorded",
        "Reopened",
    ]


def test_the_earlier_rounds_feedback_stays_in_the_history_after_a_reopen() -> None:
    concern = concern_at(Status.RESOLVED)
    _feedback(concern, False, Satisfaction.DISSATISFIED)
    concern.resolve(OWNER, "replaced the lamps again", AT)

    _feedback(concern, True, Satisfaction.SATISFIED)

    assert [(f["round"], f["solved"]) for f in concern.feedback] == [(1, False), (2, True)]
    assert concern.status == Status.RESOLVED.value


@pytest.mark.parametrize(
    ("solved", "satisfaction"),
    [
        (True, Satisfaction.SATISFIED),
        (True, Satisfaction.DISSATISFIED),
        (False, Satisfaction.SATISFIED),
    ],
)
def test_a_second_feedback_in_the_same_round_is_refused(
    solved: bool, satisfaction: Satisfaction
) -> None:
    concern = concern_at(Status.RESOLVED)
    _feedback(concern, True, Satisfaction.SATISFIED)
    concern.collect_events()
    before = snapshot(concern)

    with pytest.raises(TransitionNotAllowed) as refused:
        _feedback(concern, solved, satisfaction)

    assert refused.value.action == Action.RECORD_FEEDBACK
    assert refused.value.status == Status.RESOLVED
    assert Action.RECORD_FEEDBACK not in refused.value.allowed
    assert refused.value.allowed == allowed_actions(Status.RESOLVED, concern.facts)
    assert concern.collect_events() == []
    assert snapshot(concern) == before


def test_feedback_is_refused_after_a_staff_reopen_until_resolved_again() -> None:
    concern = concern_at(Status.RESOLVED)
    concern.reopen(STAFF, "the lamps went out again", AT)

    with pytest.raises(TransitionNotAllowed):
        _feedback(concern, True, Satisfaction.SATISFIED)

    assert concern.status == Status.ASSIGNED.value
    assert concern.round == 2


# -- reasons and other required input -------------------------------------------------------

BLANKS = ["", "   ", "\n\t"]


def _invalid_fields(raised: pytest.ExceptionInfo[Invalid]) -> list[str]:
    return [name for name, _ in raised.value.fields]


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
@pytest.mark.parametrize("status", [Status.INTAKE, Status.COMMITTEE], ids=lambda s: s.value)
def test_decline_without_a_reason_is_invalid(status: Status, blank: str) -> None:
    concern = concern_at(status)
    before = snapshot(concern)
    with pytest.raises(Invalid) as raised:
        concern.decline(STAFF, blank, AT)
    assert _invalid_fields(raised) == ["reason"]
    assert concern.collect_events() == []
    assert snapshot(concern) == before


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
@pytest.mark.parametrize("status", [Status.INTAKE, Status.COMMITTEE], ids=lambda s: s.value)
def test_withdraw_without_a_reason_is_invalid(status: Status, blank: str) -> None:
    concern = concern_at(status)
    before = snapshot(concern)
    with pytest.raises(Invalid) as raised:
        concern.withdraw(STAFF, blank, AT)
    assert _invalid_fields(raised) == ["reason"]
    assert concern.collect_events() == []
    assert snapshot(concern) == before


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
def test_extend_deadline_without_a_reason_is_invalid(blank: str) -> None:
    concern = concern_at(Status.ASSIGNED)
    before = snapshot(concern)
    with pytest.raises(Invalid) as raised:
        concern.extend_deadline(COMMITTEE, DUE + timedelta(days=7), blank, AT)
    assert _invalid_fields(raised) == ["reason"]
    assert concern.collect_events() == []
    assert snapshot(concern) == before


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
def test_reassign_without_a_reason_is_invalid(blank: str) -> None:
    concern = concern_at(Status.ASSIGNED)
    before = snapshot(concern)
    with pytest.raises(Invalid) as raised:
        concern.reassign(COMMITTEE, ZHAO_MIN, DutyRole.MEDIATOR, blank, AT)
    assert _invalid_fields(raised) == ["reason"]
    assert concern.collect_events() == []
    assert snapshot(concern) == before


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
def test_reopen_without_a_reason_is_invalid(blank: str) -> None:
    concern = concern_at(Status.RESOLVED)
    before = snapshot(concern)
    with pytest.raises(Invalid) as raised:
        concern.reopen(STAFF, blank, AT)
    assert _invalid_fields(raised) == ["reason"]
    assert concern.collect_events() == []
    assert snapshot(concern) == before


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
def test_send_back_without_a_reason_is_invalid(blank: str) -> None:
    concern = concern_at(Status.ASSIGNED)
    with pytest.raises(Invalid) as raised:
        concern.send_back(OWNER, blank, AT)
    assert _invalid_fields(raised) == ["reason"]
    assert concern.collect_events() == []


def test_a_reason_is_stored_without_surrounding_whitespace() -> None:
    concern = concern_at(Status.INTAKE)
    concern.decline(STAFF, "  not a community matter \n", AT)
    assert concern.reason == "not a community matter"


def test_a_blank_reason_on_a_status_that_refuses_the_action_is_a_transition_error() -> None:
    # The lifecycle is checked first: the caller learns the action is not allowed at all.
    concern = concern_at(Status.ASSIGNED)
    with pytest.raises(TransitionNotAllowed):
        concern.decline(STAFF, "", AT)


# -- extend_deadline ------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, -1, -30], ids=["same-day", "a-day-earlier", "a-month-earlier"])
def test_extend_deadline_refuses_a_due_date_not_later_than_the_current_one(days: int) -> None:
    concern = concern_at(Status.ASSIGNED)
    assert concern.due_on == DUE
    before = snapshot(concern)

    with pytest.raises(Invalid) as raised:
        concern.extend_deadline(COMMITTEE, DUE + timedelta(days=days), "parts delayed", AT)

    assert _invalid_fields(raised) == ["due_on"]
    assert concern.collect_events() == []
    assert snapshot(concern) == before


def test_extend_deadline_keeps_every_due_date_in_the_history() -> None:
    concern = concern_at(Status.ASSIGNED)
    first, second = DUE + timedelta(days=5), DUE + timedelta(days=9)

    concern.extend_deadline(COMMITTEE, first, "parts delayed", AT)
    concern.extend_deadline(COMMITTEE, second, "contractor ill", AT)

    assert concern.due_on == second
    assert [h["due_on"] for h in concern.due_history] == [DUE, first, second]
    assert [h["reason"] for h in concern.due_history] == [None, "parts delayed", "contractor ill"]
    assert concern.status == Status.ASSIGNED.value


@pytest.mark.parametrize("action", [Action.HANDLE_NOW, Action.ASSIGN], ids=lambda a: a.value)
def test_a_due_date_in_the_past_is_invalid(action: Action) -> None:
    concern = concern_at(Status.INTAKE if action == Action.HANDLE_NOW else Status.COMMITTEE)
    with pytest.raises(Invalid) as raised:
        perform(concern, Command(action, valid=False))
    assert _invalid_fields(raised) == ["due_on"]
    assert concern.collect_events() == []


def test_a_due_date_today_is_accepted() -> None:
    concern = concern_at(Status.COMMITTEE)
    today: date = AT.date()
    concern.assign(COMMITTEE, Assignment(LI_QIANG, DutyRole.PROJECT_COORDINATOR, today), None, AT)
    assert concern.due_on == today


def test_merging_a_concern_into_itself_is_invalid() -> None:
    concern = concern_at(Status.INTAKE)
    with pytest.raises(Invalid) as raised:
        concern.merge_into(STAFF, concern.id, None, AT)
    assert _invalid_fields(raised) == ["into"]
    assert concern.status == Status.INTAKE.value


def test_reassigning_to_the_same_owner_in_the_same_duty_role_is_invalid() -> None:
    concern = concern_at(Status.ASSIGNED)
    with pytest.raises(Invalid) as raised:
        perform(concern, Command(Action.REASSIGN, valid=False))
    assert _invalid_fields(raised) == ["owner"]
    assert concern.owner == LI_QIANG


def test_send_back_clears_the_owner_and_the_due_date() -> None:
    concern = concern_at(Status.ASSIGNED)
    concern.send_back(OWNER, "needs the district housing office", AT)
    assert concern.status == Status.COMMITTEE.value
    assert (concern.owner, concern.duty_role, concern.due_on) == (None, None, None)


# -- the lifecycle as a diagram and as data -------------------------------------------------


def test_the_mermaid_diagram_names_every_status() -> None:
    diagram = mermaid()
    assert "stateDiagram" in diagram
    for status in Status:
        assert status.value in diagram


def test_the_mermaid_diagram_names_every_action() -> None:
    diagram = mermaid()
    for action in Action:
        assert action.value in diagram


def test_as_json_lists_every_row_of_the_table() -> None:
    data = as_json()
    rows = data["transitions"]
    assert len(rows) == len(TRANSITIONS)
    for row, t in zip(rows, TRANSITIONS, strict=True):
        assert row == {
            "action": t.action.value,
            "from": [s.value for s in t.sources],
            "to": t.dest.value,
            "roles": sorted(r.value for r in t.roles),
            "owner_may": t.owner_may,
            "guard": t.guard,
            "requires": list(t.requires),
        }


def test_as_json_lists_every_status_and_action_with_labels() -> None:
    data = as_json()
    assert data["initial"] == Status.INTAKE.value
    assert [s["value"] for s in data["states"]] == [s.value for s in Status]
    assert [a["value"] for a in data["actions"]] == [a.value for a in Action]
    assert data["terminal"] == sorted(s.value for s in TERMINAL)
    assert all(s["zh"] and s["en"] for s in data["states"])


# -- the branch meeting's commands on the concern ------------------------------------------


def _event_names(concern: Concern) -> list[str]:
    return [type(e).__name__ for e in concern.collect_events()]


def test_shortlisting_puts_the_concern_on_the_meetings_agenda() -> None:
    concern = concern_at(Status.COMMITTEE)

    concern.shortlist(COMMITTEE, MEETING_ID, MEETING_TITLE, AT)

    assert concern.status == Status.BRANCH_MEETING.value
    assert concern.meeting_id == MEETING_ID
    assert not concern.facts.adopted_at_meeting
    events = concern.collect_events()
    assert [type(e).__name__ for e in events] == ["Shortlisted"]
    assert vars(events[0])["meeting_title"] == MEETING_TITLE


def test_adoption_keeps_the_concern_on_the_meeting_until_the_chair_names_the_owner() -> None:
    concern = concern_at(Status.BRANCH_MEETING)

    concern.record_outcome(CHAIR, MEETING_ID, TALLIES[Action.ADOPT], AT)

    assert concern.status == Status.BRANCH_MEETING.value
    assert concern.facts.adopted_at_meeting
    assert concern.meeting_id == MEETING_ID
    events = concern.collect_events()
    assert [type(e).__name__ for e in events] == ["AdoptedAtMeeting"]
    assert vars(events[0])["tally"] == TALLIES[Action.ADOPT]
    assert (vars(events[0])["tally"]["for"], vars(events[0])["tally"]["abstain"]) == (10, 1)

    concern.assign(CHAIR, Assignment(LI_QIANG, DutyRole.PROJECT_COORDINATOR, DUE), None, AT)

    assert concern.status == Status.ASSIGNED.value
    assert (concern.owner, concern.due_on) == (LI_QIANG, DUE)
    assert not concern.facts.adopted_at_meeting
    assert _event_names(concern) == ["Assigned"]


def test_assign_from_branch_meeting_before_adoption_is_refused_and_records_nothing() -> None:
    concern = concern_at(Status.BRANCH_MEETING)
    before = snapshot(concern)

    with pytest.raises(TransitionNotAllowed) as refused:
        concern.assign(CHAIR, Assignment(LI_QIANG, DutyRole.PROJECT_COORDINATOR, DUE), None, AT)

    assert refused.value.status == Status.BRANCH_MEETING
    assert Action.ASSIGN not in refused.value.allowed
    assert concern.collect_events() == []
    assert snapshot(concern) == before


def test_rejection_declines_the_concern_with_the_meetings_reason() -> None:
    concern = concern_at(Status.BRANCH_MEETING)
    tally = TALLIES[Action.REJECT]

    concern.record_outcome(CHAIR, MEETING_ID, tally, AT)

    assert concern.status == Status.DECLINED.value
    assert concern.reason is not None
    assert tally["reason"] in concern.reason
    assert concern.meeting_id is None
    assert _event_names(concern) == ["RejectedAtMeeting"]
    assert allowed_actions(Status.DECLINED, concern.facts) == []


def test_deferral_sends_the_concern_back_to_the_committee_free_for_another_agenda() -> None:
    concern = concern_at(Status.BRANCH_MEETING)

    concern.record_outcome(CHAIR, MEETING_ID, TALLIES[Action.DEFER], AT)

    assert concern.status == Status.COMMITTEE.value
    assert concern.meeting_id is None
    assert not concern.facts.adopted_at_meeting
    assert _event_names(concern) == ["DeferredAtMeeting"]

    concern.shortlist(COMMITTEE, OTHER_MEETING, "4月主题党日", AT)
    assert concern.status == Status.BRANCH_MEETING.value
    assert concern.meeting_id == OTHER_MEETING


def test_the_builders_tallies_are_the_three_outcomes() -> None:
    assert {a: t["outcome"] for a, t in TALLIES.items()} == {
        Action.ADOPT: "adopted",
        Action.REJECT: "rejected",
        Action.DEFER: "deferred",
    }


def test_an_adoption_does_not_carry_over_to_a_later_shortlisting() -> None:
    concern = concern_at(Status.BRANCH_MEETING)
    concern.record_outcome(CHAIR, MEETING_ID, TALLIES[Action.ADOPT], AT)
    try:
        concern.record_outcome(CHAIR, MEETING_ID, TALLIES[Action.DEFER], AT)
    except TransitionNotAllowed:
        return  # a second outcome for one shortlisting is refused: nothing carries over
    concern.shortlist(COMMITTEE, OTHER_MEETING, "4月主题党日", AT)
    concern.collect_events()

    with pytest.raises(TransitionNotAllowed):
        concern.assign(CHAIR, Assignment(LI_QIANG, DutyRole.PROJECT_COORDINATOR, DUE), None, AT)
