"""The concern lifecycle, declared once as data and checked with a `transitions` machine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions.extensions import GraphMachine

from domain.errors import TransitionNotAllowed
from domain.vocabulary import Labelled, Role


class Status(Labelled):
    INTAKE = ("intake", "待分拣", "Intake")
    COMMITTEE = ("committee", "支委会研究", "With the committee")
    BRANCH_MEETING = ("branch_meeting", "党员大会议定", "On a branch meeting's agenda")
    ASSIGNED = ("assigned", "交办中", "Assigned")
    RESOLVED = ("resolved", "已办结", "Resolved")
    DECLINED = ("declined", "明确拒办", "Declined")
    MERGED = ("merged", "已合并", "Merged")
    WITHDRAWN = ("withdrawn", "已撤回", "Withdrawn")
    VOIDED = ("voided", "已作废", "Voided")


class Action(Labelled):
    REFER = ("refer", "提交支委会", "Refer to the committee")
    HANDLE_NOW = ("handle_now", "即接即办", "Handle on receipt")
    DECLINE = ("decline", "明确拒办", "Decline")
    MERGE_INTO = ("merge_into", "合并", "Merge into another concern")
    WITHDRAW = ("withdraw", "撤回", "Withdraw")
    SHORTLIST = ("shortlist", "列入党员大会议程", "Shortlist for a branch meeting")
    ASSIGN = ("assign", "交办", "Assign")
    RETURN_FOR_INFO = ("return_for_info", "退回补充", "Return for information")
    ADOPT = ("adopt", "会议通过", "Adopted by the meeting")
    REJECT = ("reject", "会议否决", "Rejected by the meeting")
    DEFER = ("defer", "会议暂缓", "Deferred by the meeting")
    RECORD_PROGRESS = ("record_progress", "记录进展", "Record progress")
    EXTEND_DEADLINE = ("extend_deadline", "延期", "Extend the deadline")
    REASSIGN = ("reassign", "改派", "Reassign")
    SEND_BACK = ("send_back", "退回", "Send back")
    RESOLVE = ("resolve", "办结", "Resolve")
    RECORD_FEEDBACK = ("record_feedback", "回访", "Record feedback")
    REOPEN = ("reopen", "重新办理", "Reopen")
    ADD_MILESTONE = ("add_milestone", "添加节点", "Add a milestone")
    COMPLETE_MILESTONE = ("complete_milestone", "完成节点", "Mark a milestone done")
    WRITE_OFF = ("write_off", "注销承诺", "Write off the commitment")
    VOID = ("void", "作废", "Void (approve the proposal)")


@dataclass(frozen=True)
class Facts:
    """What the guards may look at: the concern's state beyond its status."""

    adopted_at_meeting: bool = False
    feedback_pending: bool = False
    reopens: bool = False
    # Resolved, the resident answered solved and at least basically satisfied (已兑现), and
    # the commitment is not written off yet.
    fulfilled: bool = False
    # A milestone of the commitment is not done yet.
    milestone_open: bool = False


Guard = Callable[[Facts], bool]


def adopted_at_meeting(facts: Facts) -> bool:
    """The branch meeting adopted the concern and nobody has been named yet."""
    return facts.adopted_at_meeting


def feedback_pending(facts: Facts) -> bool:
    """This round of work was resolved and the resident has not answered yet."""
    return facts.feedback_pending


def feedback_reopens(facts: Facts) -> bool:
    """The feedback says not solved or dissatisfied, so a new round starts."""
    return facts.feedback_pending and facts.reopens


def feedback_closes(facts: Facts) -> bool:
    """The feedback says solved and at least basically satisfied."""
    return facts.feedback_pending and not facts.reopens


def fulfilled(facts: Facts) -> bool:
    """The commitment was fulfilled (已兑现) and is not written off yet."""
    return facts.fulfilled


def milestone_open(facts: Facts) -> bool:
    """Some milestone of the commitment is not done yet."""
    return facts.milestone_open


GUARDS: Mapping[str, Guard] = {
    g.__name__: g
    for g in (
        adopted_at_meeting,
        feedback_pending,
        feedback_reopens,
        feedback_closes,
        fulfilled,
        milestone_open,
    )
}


@dataclass(frozen=True)
class Transition:
    """One row of the lifecycle table in domain.md."""

    action: Action
    sources: tuple[Status, ...]
    dest: Status
    roles: frozenset[Role]
    guard: str | None = None
    owner_may: bool = False
    needs_meeting: bool = False
    requires: tuple[str, ...] = field(default=())


S, A, R = Status, Action, Role

# The table of domain.md, row by row. `roles` is the "who" column as api.md assigns it;
# `owner_may` lets the concern's assignee act whatever their roles.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(A.REFER, (S.INTAKE,), S.COMMITTEE, frozenset({R.GRID_LEADER, R.STAFF})),
    Transition(
        A.HANDLE_NOW,
        (S.INTAKE,),
        S.ASSIGNED,
        frozenset({R.GRID_LEADER, R.STAFF}),
        requires=("owner", "duty_role", "due_on"),
    ),
    Transition(
        A.DECLINE,
        (S.INTAKE, S.COMMITTEE),
        S.DECLINED,
        frozenset({R.STAFF, R.COMMITTEE, R.CHAIR}),
        requires=("reason",),
    ),
    Transition(A.MERGE_INTO, (S.INTAKE,), S.MERGED, frozenset({R.STAFF}), requires=("into",)),
    Transition(
        A.WITHDRAW,
        (S.INTAKE, S.COMMITTEE),
        S.WITHDRAWN,
        frozenset({R.STAFF}),
        requires=("reason",),
    ),
    Transition(
        A.SHORTLIST,
        (S.COMMITTEE,),
        S.BRANCH_MEETING,
        frozenset({R.COMMITTEE}),
        needs_meeting=True,
    ),
    Transition(
        A.ASSIGN,
        (S.COMMITTEE,),
        S.ASSIGNED,
        frozenset({R.COMMITTEE}),
        requires=("owner", "duty_role", "due_on"),
    ),
    Transition(
        A.RETURN_FOR_INFO,
        (S.COMMITTEE,),
        S.INTAKE,
        frozenset({R.COMMITTEE}),
        requires=("missing",),
    ),
    Transition(
        A.ASSIGN,
        (S.BRANCH_MEETING,),
        S.ASSIGNED,
        frozenset({R.CHAIR}),
        guard="adopted_at_meeting",
        requires=("owner", "duty_role", "due_on"),
    ),
    Transition(
        A.ADOPT, (S.BRANCH_MEETING,), S.BRANCH_MEETING, frozenset({R.CHAIR}), needs_meeting=True
    ),
    Transition(A.REJECT, (S.BRANCH_MEETING,), S.DECLINED, frozenset({R.CHAIR}), needs_meeting=True),
    Transition(A.DEFER, (S.BRANCH_MEETING,), S.COMMITTEE, frozenset({R.CHAIR}), needs_meeting=True),
    Transition(
        A.RECORD_PROGRESS,
        (S.ASSIGNED,),
        S.ASSIGNED,
        frozenset({R.STAFF}),
        owner_may=True,
        requires=("note",),
    ),
    Transition(
        A.EXTEND_DEADLINE,
        (S.ASSIGNED,),
        S.ASSIGNED,
        frozenset({R.COMMITTEE}),
        requires=("due_on", "reason"),
    ),
    Transition(
        A.REASSIGN,
        (S.ASSIGNED,),
        S.ASSIGNED,
        frozenset({R.COMMITTEE}),
        requires=("owner", "duty_role", "reason"),
    ),
    Transition(
        A.SEND_BACK,
        (S.ASSIGNED,),
        S.COMMITTEE,
        frozenset(),
        owner_may=True,
        requires=("reason",),
    ),
    Transition(
        A.RESOLVE,
        (S.ASSIGNED,),
        S.RESOLVED,
        frozenset({R.STAFF}),
        owner_may=True,
        requires=("summary",),
    ),
    Transition(
        A.RECORD_FEEDBACK,
        (S.RESOLVED,),
        S.RESOLVED,
        frozenset({R.COLLECTOR, R.STAFF, R.RESIDENT}),
        guard="feedback_closes",
        requires=("solved", "satisfaction"),
    ),
    Transition(
        A.RECORD_FEEDBACK,
        (S.RESOLVED,),
        S.ASSIGNED,
        frozenset({R.COLLECTOR, R.STAFF, R.RESIDENT}),
        guard="feedback_reopens",
        requires=("solved", "satisfaction"),
    ),
    Transition(A.REOPEN, (S.RESOLVED,), S.ASSIGNED, frozenset({R.STAFF}), requires=("reason",)),
    # The commitment's milestones (承诺节点) and its writing off (注销), once fulfilled.
    Transition(
        A.ADD_MILESTONE,
        (S.ASSIGNED,),
        S.ASSIGNED,
        frozenset({R.STAFF}),
        owner_may=True,
        requires=("title", "due_on"),
    ),
    Transition(
        A.COMPLETE_MILESTONE,
        (S.ASSIGNED,),
        S.ASSIGNED,
        frozenset({R.STAFF}),
        guard="milestone_open",
        owner_may=True,
        requires=("milestone_id",),
    ),
    Transition(A.WRITE_OFF, (S.RESOLVED,), S.RESOLVED, frozenset({R.STAFF}), guard="fulfilled"),
    # A void (作废): staff propose (a fact, domain/voids.py), a supervisor approves — this row.
    # The concern did not meet the filing conditions; it leaves the indicators' denominators.
    # Not from a branch meeting's agenda: the meeting decides what it put there.
    Transition(
        A.VOID,
        (S.INTAKE, S.COMMITTEE, S.ASSIGNED),
        S.VOIDED,
        frozenset({R.SUPERVISOR}),
    ),
)

# Raising a concern creates it; it is not a transition between two states.
RAISE_ROLES: frozenset[Role] = frozenset({R.COLLECTOR, R.STAFF, R.GRID_LEADER})
INITIAL = S.INTAKE
TERMINAL: frozenset[Status] = frozenset({S.DECLINED, S.MERGED, S.WITHDRAWN, S.VOIDED})


def _machine_rows() -> list[dict[str, Any]]:
    rows = []
    for t in TRANSITIONS:
        row: dict[str, Any] = {
            "trigger": t.action.value,
            "source": [s.value for s in t.sources],
            "dest": t.dest.value,
        }
        if t.guard:
            row["conditions"] = t.guard
        rows.append(row)
    return rows


class _Diagram:
    """The model object the diagram machine draws; it only holds a state."""

    state: str = INITIAL.value


_DIAGRAM_MODEL = _Diagram()
MACHINE = GraphMachine(
    model=_DIAGRAM_MODEL,
    states=[s.value for s in Status],
    transitions=_machine_rows(),
    initial=INITIAL.value,
    auto_transitions=False,
    graph_engine="mermaid",
    show_conditions=True,
    title="Minqing concern lifecycle",
)


def _rows(action: Action, status: Status) -> list[Transition]:
    # Ask the machine which transitions exist, then map them back to our rows.
    found = MACHINE.get_transitions(action.value, status.value)
    dests = {t.dest for t in found}
    return [
        t for t in TRANSITIONS if t.action == action and status in t.sources and t.dest in dests
    ]


def _passes(row: Transition, facts: Facts) -> bool:
    return row.guard is None or GUARDS[row.guard](facts)


def next_status(status: Status, action: Action, facts: Facts) -> Status:
    """The state `action` leads to from `status`, or TransitionNotAllowed naming the allowed."""
    for row in _rows(action, status):
        if _passes(row, facts):
            return row.dest
    raise TransitionNotAllowed(status, action, allowed_actions(status, facts))


def allowed_actions(status: Status, facts: Facts) -> list[Action]:
    """Every action the lifecycle allows from `status`, whoever asks."""
    found: list[Action] = []
    for trigger in MACHINE.get_triggers(status.value):
        action = Action(trigger)
        if action not in found and any(_passes(r, facts) for r in _rows(action, status)):
            found.append(action)
    return found


def rows_for(action: Action, status: Status, facts: Facts) -> list[Transition]:
    """The table rows that would carry `action` from `status` given `facts`."""
    return [r for r in _rows(action, status) if _passes(r, facts)]


def mermaid() -> str:
    """The lifecycle as a mermaid state diagram, drawn by `transitions` from the table."""
    graph = _DIAGRAM_MODEL.get_graph()  # type: ignore[attr-defined]
    return str(graph.draw(None))


def as_json() -> dict[str, Any]:
    """The lifecycle as data: states, actions and every transition with its rule."""
    return {
        "initial": INITIAL.value,
        "states": Status.labels(),
        "terminal": sorted(s.value for s in TERMINAL),
        "actions": Action.labels(),
        "raise_roles": sorted(r.value for r in RAISE_ROLES),
        "transitions": [
            {
                "action": t.action.value,
                "from": [s.value for s in t.sources],
                "to": t.dest.value,
                "roles": sorted(r.value for r in t.roles),
                "owner_may": t.owner_may,
                "guard": t.guard,
                "requires": list(t.requires),
            }
            for t in TRANSITIONS
        ],
    }
