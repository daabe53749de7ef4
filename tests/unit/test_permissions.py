"""Who may do what: the table's roles, the grid scope and the owner rule, all in memory."""

from __future__ import annotations

import pytest

from domain.concern import Concern
from domain.errors import Forbidden, TransitionNotAllowed
from domain.lifecycle import (
    RAISE_ROLES,
    TRANSITIONS,
    Action,
    Status,
    Transition,
    allowed_actions,
)
from domain.permissions import (
    actions_for,
    actor_for,
    actor_to_raise,
    check_grid,
    check_view,
    is_owner,
)
from domain.principal import Actor, Principal
from domain.vocabulary import DutyRole, Role
from tests.unit.builders import (
    AT,
    COMMAND_ACTIONS,
    COMMITTEE,
    GRID,
    LI_QIANG,
    OUTCOME_ACTIONS,
    OWNER,
    REACHABLE,
    ZHAO_MIN,
    Command,
    concern_at,
    new_concern,
    perform,
    principal,
)


def concern_in(status: Status, *, adopted: bool = False) -> Concern:
    """A concern in `status` reached by the real commands; with `adopted`, a branch_meeting
    concern the meeting has adopted, waiting for the chair to name the owner."""
    concern = concern_at(status)
    if adopted:
        perform(concern, Command(Action.ADOPT))
        concern.collect_events()
    return concern


def _roles_here(action: Action, status: Status) -> frozenset[Role]:
    """Every role some row allows for `action` out of `status`."""
    rows = [t for t in TRANSITIONS if t.action == action and status in t.sources]
    return frozenset().union(*(t.roles for t in rows))


def _row_id(row: Transition, source: Status) -> str:
    return f"{row.action.value}-from-{source.value}-{row.guard or 'any'}"


ROW_ROLE_CASES = [
    pytest.param(row, source, role, id=f"{_row_id(row, source)}-as-{role.value}")
    for row in TRANSITIONS
    for source in row.sources
    for role in Role
]


# -- roles from the table -------------------------------------------------------------------


@pytest.mark.parametrize(("row", "source", "role"), ROW_ROLE_CASES)
def test_only_the_roles_of_a_row_may_take_it(row: Transition, source: Status, role: Role) -> None:
    concern = concern_in(source, adopted=row.guard == "adopted_at_meeting")
    # No member_id: the owner rule plays no part here.
    who = principal(role)

    if role in _roles_here(row.action, source):
        assert actor_for(who, row.action, concern) == Actor(who.id, role)
    else:
        with pytest.raises(Forbidden):
            actor_for(who, row.action, concern)


@pytest.mark.parametrize(
    "role",
    [r for r in Role if not any(r in t.roles for t in TRANSITIONS)],
    ids=lambda r: r.value,
)
def test_a_role_in_no_row_may_do_nothing_to_a_concern(role: Role) -> None:
    who = principal(role)
    for status in REACHABLE:
        concern = concern_at(status)
        for action in Action:
            with pytest.raises(Forbidden):
                actor_for(who, action, concern)
        assert actions_for(who, concern) == []


def test_a_role_that_may_act_but_not_now_gets_the_lifecycle_refusal() -> None:
    # Roles first (403), then the state (409): the grid leader may refer, just not now.
    concern = concern_at(Status.ASSIGNED)
    leader = principal(Role.GRID_LEADER)

    actor = actor_for(leader, Action.REFER, concern)

    assert actor == Actor(leader.id, Role.GRID_LEADER)
    with pytest.raises(TransitionNotAllowed):
        concern.refer(actor, None, AT)


def test_the_chair_may_not_assign_from_committee() -> None:
    with pytest.raises(Forbidden, match="committee"):
        actor_for(principal(Role.CHAIR), Action.ASSIGN, concern_at(Status.COMMITTEE))


def test_the_committee_may_not_assign_from_branch_meeting() -> None:
    with pytest.raises(Forbidden, match="chair"):
        actor_for(principal(Role.COMMITTEE), Action.ASSIGN, concern_in(Status.BRANCH_MEETING))


def test_a_principal_with_several_roles_acts_in_the_first_that_allows_it() -> None:
    concern = concern_at(Status.COMMITTEE)
    both = principal(Role.COMMITTEE, Role.STAFF)

    assert actor_for(both, Action.DECLINE, concern).role == Role.STAFF
    assert actor_for(both, Action.ASSIGN, concern).role == Role.COMMITTEE


# -- raising a concern ----------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_only_the_raise_roles_may_raise_a_concern(role: Role) -> None:
    who = principal(role)
    if role in RAISE_ROLES:
        assert actor_to_raise(who, GRID) == Actor(who.id, role)
    else:
        with pytest.raises(Forbidden):
            actor_to_raise(who, GRID)


def test_raising_a_concern_outside_ones_grids_is_forbidden() -> None:
    with pytest.raises(Forbidden, match="grids"):
        actor_to_raise(principal(Role.COLLECTOR, grids=frozenset({"3"})), GRID)


# -- grid scope -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_a_principal_limited_to_grid_3_may_not_act_on_a_grid_2_concern(action: Action) -> None:
    concern = concern_at(Status.ASSIGNED)
    assert concern.grid == "2"
    everything = principal(*Role, grids=frozenset({"3"}), member_id=LI_QIANG)

    with pytest.raises(Forbidden, match="grids"):
        actor_for(everything, action, concern)


def test_a_principal_out_of_grid_is_offered_no_actions() -> None:
    for status in REACHABLE:
        concern = concern_at(status)
        assert actions_for(principal(*Role, grids=frozenset({"3"})), concern) == []


def test_a_principal_whose_grids_include_the_concerns_may_act() -> None:
    concern = concern_at(Status.INTAKE)
    staff = principal(Role.STAFF, grids=frozenset({"2", "3"}))
    assert actor_for(staff, Action.REFER, concern) == Actor(staff.id, Role.STAFF)


def test_a_principal_without_grid_scope_covers_every_grid() -> None:
    staff = principal(Role.STAFF)
    for grid in ("1", "2", "17"):
        concern = new_concern(grid=grid)
        check_grid(staff, grid)
        assert actor_for(staff, Action.REFER, concern).role == Role.STAFF


# -- the owner rule -------------------------------------------------------------------------

OWNER_ACTIONS = [t.action for t in TRANSITIONS if t.owner_may]


def test_the_owner_rule_covers_record_progress_resolve_send_back_and_milestones() -> None:
    assert set(OWNER_ACTIONS) == {
        Action.RECORD_PROGRESS,
        Action.RESOLVE,
        Action.SEND_BACK,
        Action.ADD_MILESTONE,
        Action.COMPLETE_MILESTONE,
    }


@pytest.mark.parametrize("action", OWNER_ACTIONS, ids=lambda a: a.value)
def test_the_owner_may_take_the_owner_actions_whatever_their_roles(action: Action) -> None:
    concern = concern_at(Status.ASSIGNED)
    if action is Action.COMPLETE_MILESTONE:  # its row needs a milestone not done yet
        perform(concern, Command(Action.ADD_MILESTONE))
    assert concern.owner == LI_QIANG
    li = principal(Role.MEMBER, member_id=LI_QIANG)

    actor = actor_for(li, action, concern)

    assert actor == Actor(li.id, Role.MEMBER)
    assert is_owner(li, concern)
    assert action.value in actions_for(li, concern)


@pytest.mark.parametrize("action", OWNER_ACTIONS, ids=lambda a: a.value)
def test_another_member_may_not_take_the_owner_actions(action: Action) -> None:
    concern = concern_at(Status.ASSIGNED)
    zhao = principal(Role.MEMBER, member_id=ZHAO_MIN)

    with pytest.raises(Forbidden):
        actor_for(zhao, action, concern)
    assert actions_for(zhao, concern) == []


@pytest.mark.parametrize(
    "action",
    [Action.EXTEND_DEADLINE, Action.REASSIGN, Action.REOPEN, Action.DECLINE],
    ids=lambda a: a.value,
)
def test_the_owner_may_not_take_actions_without_the_owner_rule(action: Action) -> None:
    concern = concern_at(Status.ASSIGNED)
    with pytest.raises(Forbidden):
        actor_for(principal(Role.MEMBER, member_id=LI_QIANG), action, concern)


def test_only_the_owner_may_send_back_not_even_staff() -> None:
    concern = concern_at(Status.ASSIGNED)
    with pytest.raises(Forbidden, match="owner"):
        actor_for(principal(Role.STAFF, Role.COMMITTEE, Role.CHAIR), Action.SEND_BACK, concern)


def test_an_owner_who_is_also_staff_acts_as_staff_where_staff_may() -> None:
    concern = concern_at(Status.ASSIGNED)
    li = principal(Role.STAFF, member_id=LI_QIANG)

    assert actor_for(li, Action.RESOLVE, concern).role == Role.STAFF
    assert actor_for(li, Action.SEND_BACK, concern).role == Role.MEMBER


def test_the_former_owner_loses_the_owner_rule_after_a_reassign() -> None:
    concern = concern_at(Status.ASSIGNED)
    concern.reassign(COMMITTEE, ZHAO_MIN, DutyRole.MEDIATOR, "Li Qiang is away", AT)
    li = principal(Role.MEMBER, member_id=LI_QIANG)
    zhao = principal(Role.MEMBER, member_id=ZHAO_MIN)

    with pytest.raises(Forbidden):
        actor_for(li, Action.RESOLVE, concern)
    assert actor_for(zhao, Action.RESOLVE, concern) == Actor(zhao.id, Role.MEMBER)


def test_nobody_is_owner_after_the_concern_is_sent_back() -> None:
    concern = concern_at(Status.ASSIGNED)
    concern.send_back(OWNER, "needs the district housing office", AT)
    li = principal(Role.MEMBER, member_id=LI_QIANG)

    assert not is_owner(li, concern)
    with pytest.raises(Forbidden):
        actor_for(li, Action.RECORD_PROGRESS, concern)


def test_a_principal_without_a_member_id_is_never_the_owner() -> None:
    concern = concern_at(Status.INTAKE)
    assert concern.owner is None
    assert not is_owner(principal(Role.MEMBER), concern)


# -- actions_for ----------------------------------------------------------------------------

PRINCIPALS: list[Principal] = [
    *(principal(role) for role in Role),
    principal(Role.MEMBER, member_id=LI_QIANG),
    principal(Role.MEMBER, member_id=ZHAO_MIN),
    principal(Role.STAFF, Role.COMMITTEE, member_id=LI_QIANG),
]


def _attempt(who: Principal, action: Action, concern: Concern) -> None:
    """What the API does: ask permissions for the actor, then run the command."""
    actor_for(who, action, concern)
    perform(concern, Command(action))


# Every status the commands reach, and the adopted branch_meeting concern besides.
SITUATIONS = [
    *(pytest.param(s, False, id=s.value) for s in sorted(REACHABLE)),
    pytest.param(Status.BRANCH_MEETING, True, id="branch_meeting-adopted"),
]


@pytest.mark.parametrize("who", PRINCIPALS, ids=lambda p: f"{p.name}-{p.member_id or 'none'}")
@pytest.mark.parametrize(("status", "adopted"), SITUATIONS)
def test_actions_for_lists_exactly_the_actions_the_principal_may_take_now(
    who: Principal, status: Status, adopted: bool
) -> None:
    concern = concern_in(status, adopted=adopted)
    offered = actions_for(who, concern)
    assert len(offered) == len(set(offered))
    assert set(offered) <= {a.value for a in allowed_actions(status, concern.facts)}

    for action in COMMAND_ACTIONS:
        fresh = concern_in(status, adopted=adopted)
        if action in OUTCOME_ACTIONS or action is Action.VOID:
            # Recorded by closing a meeting's vote, or approved on its own route once staff
            # proposed it (a void): never offered on the concern itself.
            assert action.value not in offered
            continue
        if action.value in offered:
            # Offered: permitted, and the command goes through.
            _attempt(who, action, fresh)
            assert fresh.collect_events()
        else:
            # Not offered: refused by the roles or by the lifecycle.
            with pytest.raises((Forbidden, TransitionNotAllowed)):
                _attempt(who, action, fresh)


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        (
            principal(Role.STAFF),
            Status.INTAKE,
            {"refer", "handle_now", "decline", "merge_into", "withdraw"},
        ),
        (principal(Role.GRID_LEADER), Status.INTAKE, {"refer", "handle_now"}),
        (principal(Role.COLLECTOR), Status.INTAKE, set()),
        (
            principal(Role.COMMITTEE),
            Status.COMMITTEE,
            {"decline", "assign", "return_for_info", "shortlist"},
        ),
        (principal(Role.STAFF), Status.COMMITTEE, {"decline", "withdraw"}),
        (principal(Role.COMMITTEE), Status.ASSIGNED, {"extend_deadline", "reassign"}),
        (principal(Role.STAFF), Status.ASSIGNED, {"record_progress", "resolve", "add_milestone"}),
        (
            principal(Role.MEMBER, member_id=LI_QIANG),
            Status.ASSIGNED,
            {"record_progress", "resolve", "send_back", "add_milestone"},
        ),
        (principal(Role.RESIDENT), Status.RESOLVED, {"record_feedback"}),
        (principal(Role.COLLECTOR), Status.RESOLVED, {"record_feedback"}),
        (principal(Role.STAFF), Status.RESOLVED, {"record_feedback", "reopen"}),
        (principal(Role.STAFF), Status.DECLINED, set()),
    ],
    ids=lambda v: v.name if isinstance(v, Principal) else str(getattr(v, "value", "")),
)
def test_actions_for_in_the_worked_story(
    who: Principal, status: Status, expected: set[str]
) -> None:
    assert set(actions_for(who, concern_at(status))) == expected


def test_feedback_is_no_longer_offered_once_given() -> None:
    concern = concern_at(Status.RESOLVED)
    resident = principal(Role.RESIDENT)
    perform(concern, Command(Action.RECORD_FEEDBACK))
    assert concern.status == Status.RESOLVED.value
    assert actions_for(resident, concern) == []


def test_the_chair_is_offered_no_meeting_actions_on_a_concern() -> None:
    # adopt/reject/defer are taken through the meeting, and assign needs an adoption first.
    concern = concern_in(Status.BRANCH_MEETING)
    assert actions_for(principal(Role.CHAIR), concern) == []
    assert actions_for(principal(*Role), concern) == []


def test_after_adoption_only_the_chair_is_offered_assign() -> None:
    concern = concern_in(Status.BRANCH_MEETING, adopted=True)
    chair = principal(Role.CHAIR)

    assert actions_for(chair, concern) == ["assign"]
    assert actions_for(principal(Role.COMMITTEE), concern) == []
    assert actions_for(principal(Role.STAFF), concern) == []
    assert actor_for(chair, Action.ASSIGN, concern) == Actor(chair.id, Role.CHAIR)
    with pytest.raises(Forbidden, match="chair"):
        actor_for(principal(Role.COMMITTEE), Action.ASSIGN, concern)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_only_the_committee_may_shortlist(role: Role) -> None:
    concern = concern_in(Status.COMMITTEE)
    who = principal(role)
    if role == Role.COMMITTEE:
        assert actor_for(who, Action.SHORTLIST, concern) == Actor(who.id, Role.COMMITTEE)
        assert "shortlist" in actions_for(who, concern)
    else:
        with pytest.raises(Forbidden):
            actor_for(who, Action.SHORTLIST, concern)
        assert "shortlist" not in actions_for(who, concern)


# -- reading a concern ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [Role.COLLECTOR, Role.GRID_LEADER, Role.STAFF, Role.COMMITTEE, Role.CHAIR, Role.SUPERVISOR],
    ids=lambda r: r.value,
)
def test_staff_roles_and_supervisors_may_read_a_concern_in_their_grid(role: Role) -> None:
    concern = concern_at(Status.ASSIGNED)
    check_view(principal(role), concern)
    with pytest.raises(Forbidden):
        check_view(principal(role, grids=frozenset({"3"})), concern)


def test_a_member_may_read_only_the_concern_they_own() -> None:
    concern = concern_at(Status.ASSIGNED)
    check_view(principal(Role.MEMBER, member_id=LI_QIANG), concern)
    with pytest.raises(Forbidden):
        check_view(principal(Role.MEMBER, member_id=ZHAO_MIN), concern)


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.INTEGRATOR], ids=lambda r: r.value)
def test_residents_and_integrators_may_not_read_a_concern(role: Role) -> None:
    with pytest.raises(Forbidden):
        check_view(principal(role), concern_at(Status.INTAKE))
