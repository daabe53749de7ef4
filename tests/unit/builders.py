"""In-memory builders for the unit tests: concerns, actors, principals and the commands.

Everything here stays in memory: a Concern is built with `Concern.raise_new` and moved only
by its own commands, so the tests see exactly the events the service would store.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from domain.concern import Assignment, Concern
from domain.lifecycle import TRANSITIONS, Action, Status, Transition
from domain.principal import Actor, Principal
from domain.vocabulary import (
    Category,
    Channel,
    DutyRole,
    Library,
    Role,
    Satisfaction,
)
from domain.voting import Choice, Rules, count

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)
DUE = date(2026, 4, 10)
GRID = "2"

LI_QIANG = UUID("00000000-0000-4000-8000-000000000001")
ZHAO_MIN = UUID("00000000-0000-4000-8000-000000000002")
OTHER_CONCERN = UUID("00000000-0000-4000-8000-0000000000ff")
MEETING_ID = UUID("00000000-0000-4000-8000-0000000000aa")
MILESTONE_ID = UUID("00000000-0000-4000-8000-0000000000cc")
MEETING_TITLE = "3月主题党日·民情会诊"

COLLECTOR = Actor("wang-fang", Role.COLLECTOR)
STAFF = Actor("staff-1", Role.STAFF)
SUPERVISOR = Actor("supervisor-1", Role.SUPERVISOR)
GRID_LEADER = Actor("leader-2", Role.GRID_LEADER)
COMMITTEE = Actor("committee-1", Role.COMMITTEE)
CHAIR = Actor("chair-1", Role.CHAIR)
OWNER = Actor("li-qiang", Role.MEMBER)
RESIDENT = Actor("resident-1", Role.RESIDENT)

# The actions a Concern has a command for: every action of the table. shortlist and the
# meeting's outcomes (adopt, reject, defer) are recorded on the concern in the same save as
# the meeting's own change; here they are called on the Concern alone.
COMMAND_ACTIONS: tuple[Action, ...] = (
    Action.REFER,
    Action.HANDLE_NOW,
    Action.DECLINE,
    Action.MERGE_INTO,
    Action.WITHDRAW,
    Action.ASSIGN,
    Action.RETURN_FOR_INFO,
    Action.RECORD_PROGRESS,
    Action.EXTEND_DEADLINE,
    Action.REASSIGN,
    Action.SEND_BACK,
    Action.RESOLVE,
    Action.RECORD_FEEDBACK,
    Action.REOPEN,
    Action.SHORTLIST,
    Action.ADOPT,
    Action.REJECT,
    Action.DEFER,
    Action.ADD_MILESTONE,
    Action.COMPLETE_MILESTONE,
    Action.WRITE_OFF,
    Action.VOID,
)
# The actions a branch meeting records. They take no free input of their own (the tally
# comes from the meeting's count), so a Command's `valid` does not apply to them.
MEETING_ACTIONS: frozenset[Action] = frozenset(
    {Action.SHORTLIST, Action.ADOPT, Action.REJECT, Action.DEFER}
)
OUTCOME_ACTIONS: frozenset[Action] = frozenset({Action.ADOPT, Action.REJECT, Action.DEFER})

# The tallies a meeting hands the concern, computed by the real rules: the worked story's
# 10 for and 1 abstain of 15 entitled (adopted), 8 against of 15 (rejected), and 7 of 15
# present (no quorum: deferred).
TALLIES: Mapping[Action, dict[str, Any]] = {
    Action.ADOPT: count(
        [Choice.FOR.value] * 10 + [Choice.ABSTAIN.value], entitled=15, present=11, rules=Rules()
    ).as_dict(),
    Action.REJECT: count(
        [Choice.AGAINST.value] * 8 + [Choice.FOR.value] * 3, entitled=15, present=11, rules=Rules()
    ).as_dict(),
    Action.DEFER: count([Choice.FOR.value] * 7, entitled=15, present=7, rules=Rules()).as_dict(),
}

# How a fresh concern reaches each status with the real commands.
PATHS: Mapping[Status, tuple[Action, ...]] = {
    Status.INTAKE: (),
    Status.COMMITTEE: (Action.REFER,),
    Status.BRANCH_MEETING: (Action.REFER, Action.SHORTLIST),
    Status.ASSIGNED: (Action.HANDLE_NOW,),
    Status.RESOLVED: (Action.HANDLE_NOW, Action.RESOLVE),
    Status.DECLINED: (Action.DECLINE,),
    Status.MERGED: (Action.MERGE_INTO,),
    Status.WITHDRAWN: (Action.WITHDRAW,),
    Status.VOIDED: (Action.VOID,),
}
REACHABLE: frozenset[Status] = frozenset(PATHS)


def new_concern(*, grid: str = GRID, at: datetime = AT) -> Concern:
    """The worked story's concern, just raised by Wang Fang: in intake."""
    return Concern.raise_new(
        reference="MQ-2026-000001",
        tracking_code="TRK-0001",
        title="Streetlights out on the east path",
        description="The streetlights along the east path of building 5 are out.",
        category=Category.ENVIRONMENT,
        library=Library.PROBLEM,
        channel=Channel.VISIT,
        grid=grid,
        building="5",
        priority_visit=None,
        resident_ref=None,
        resident_data=None,
        anonymous=True,
        actor=COLLECTOR,
        at=at,
    )


def actor_for_action(action: Action, status: Status | None = None) -> Actor:
    """An actor in a role the table allows for `action` out of `status` (the owner for
    send_back; the chair for assign out of branch_meeting and for the meeting's outcomes)."""
    if action == Action.ASSIGN and status == Status.BRANCH_MEETING:
        return CHAIR
    return {
        Action.REFER: GRID_LEADER,
        Action.HANDLE_NOW: GRID_LEADER,
        Action.DECLINE: STAFF,
        Action.MERGE_INTO: STAFF,
        Action.WITHDRAW: STAFF,
        Action.ASSIGN: COMMITTEE,
        Action.RETURN_FOR_INFO: COMMITTEE,
        Action.RECORD_PROGRESS: OWNER,
        Action.EXTEND_DEADLINE: COMMITTEE,
        Action.REASSIGN: COMMITTEE,
        Action.SEND_BACK: OWNER,
        Action.RESOLVE: OWNER,
        Action.RECORD_FEEDBACK: COLLECTOR,
        Action.REOPEN: STAFF,
        Action.SHORTLIST: COMMITTEE,
        Action.ADOPT: CHAIR,
        Action.REJECT: CHAIR,
        Action.DEFER: CHAIR,
        Action.ADD_MILESTONE: OWNER,
        Action.COMPLETE_MILESTONE: OWNER,
        Action.WRITE_OFF: STAFF,
        Action.VOID: SUPERVISOR,
    }[action]


@dataclass(frozen=True)
class Command:
    """One command to try on a concern.

    `valid` False gives input that breaks the command's own rule (a blank reason, a due
    date in the past or not later, merging into itself, the same owner again, text that is
    too long); the meeting's actions have no such input and ignore it. `solved` and
    `satisfaction` are only for record_feedback.
    """

    action: Action
    valid: bool = True
    solved: bool = True
    satisfaction: Satisfaction = Satisfaction.SATISFIED


TOO_LONG = "x" * 2001


def perform(concern: Concern, command: Command, at: datetime = AT) -> None:
    """Call the Concern command for `command.action` with arguments it should accept."""
    action, valid = command.action, command.valid
    actor = actor_for_action(action, Status(concern.status))
    reason = "the resident asked for it" if valid else "   "
    due = DUE if valid else at.date() - timedelta(days=1)
    runs: dict[Action, Callable[[], None]] = {
        Action.REFER: lambda: concern.refer(actor, None if valid else TOO_LONG, at),
        Action.HANDLE_NOW: lambda: concern.handle_now(
            actor, Assignment(LI_QIANG, DutyRole.ENVIRONMENT_MONITOR, due), None, at
        ),
        Action.DECLINE: lambda: concern.decline(actor, reason, at),
        Action.MERGE_INTO: lambda: concern.merge_into(
            actor, OTHER_CONCERN if valid else concern.id, None, at
        ),
        Action.WITHDRAW: lambda: concern.withdraw(actor, reason, at),
        Action.ASSIGN: lambda: concern.assign(
            actor, Assignment(LI_QIANG, DutyRole.PROJECT_COORDINATOR, due), None, at
        ),
        Action.RETURN_FOR_INFO: lambda: concern.return_for_info(
            actor, "which lamp posts" if valid else "", at
        ),
        Action.RECORD_PROGRESS: lambda: concern.record_progress(
            actor, "ordered new lamps" if valid else " ", at
        ),
        Action.EXTEND_DEADLINE: lambda: concern.extend_deadline(
            actor, later_due(concern) if valid else (concern.due_on or DUE), "parts delayed", at
        ),
        Action.REASSIGN: lambda: _reassign(concern, actor, valid, at),
        Action.SEND_BACK: lambda: concern.send_back(actor, reason, at),
        Action.RESOLVE: lambda: concern.resolve(actor, "replaced six lamps" if valid else "", at),
        Action.RECORD_FEEDBACK: lambda: concern.record_feedback(
            actor, command.solved, command.satisfaction, None if valid else TOO_LONG, at
        ),
        Action.REOPEN: lambda: concern.reopen(actor, reason, at),
        Action.SHORTLIST: lambda: concern.shortlist(actor, MEETING_ID, MEETING_TITLE, at),
        Action.ADOPT: lambda: concern.record_outcome(actor, MEETING_ID, TALLIES[action], at),
        Action.REJECT: lambda: concern.record_outcome(actor, MEETING_ID, TALLIES[action], at),
        Action.DEFER: lambda: concern.record_outcome(actor, MEETING_ID, TALLIES[action], at),
        Action.ADD_MILESTONE: lambda: concern.add_milestone(
            actor, uuid4(), "order the lamps" if valid else " ", due, at
        ),
        Action.COMPLETE_MILESTONE: lambda: _complete_milestone(concern, actor, valid, at),
        Action.WRITE_OFF: lambda: concern.write_off(actor, None if valid else TOO_LONG, at),
        Action.VOID: lambda: _void(concern, actor, reason, at),
    }
    runs[action]()


def _void(concern: Concern, actor: Actor, reason: str, at: datetime) -> None:
    # Staff propose (with the reason), the supervisor approves: the table's row.
    concern.propose_void(STAFF, reason, at)
    concern.approve_void(actor, at)


def _complete_milestone(concern: Concern, actor: Actor, valid: bool, at: datetime) -> None:
    # The first milestone not done yet; a fresh id when there is none (refused as unknown).
    open_ones = [m["id"] for m in concern.milestones if m["done_at"] is None]
    milestone = open_ones[0] if open_ones else MILESTONE_ID
    concern.complete_milestone(actor, milestone, "ordered" if valid else TOO_LONG, at)


def later_due(concern: Concern) -> date:
    """A due date a week after the current one."""
    return (concern.due_on or DUE) + timedelta(days=7)


def _reassign(concern: Concern, actor: Actor, valid: bool, at: datetime) -> None:
    if valid:
        owner = ZHAO_MIN if concern.owner == LI_QIANG else LI_QIANG
        concern.reassign(actor, owner, DutyRole.MEDIATOR, "Li Qiang is away", at)
        return
    # The same owner in the same duty role again (a fresh UUID if nobody owns it).
    owner_now = concern.owner or LI_QIANG
    role_now = DutyRole(concern.duty_role) if concern.duty_role else DutyRole.MEDIATOR
    concern.reassign(actor, owner_now, role_now, "again", at)


def command_for_row(row: Transition) -> Command:
    """A command that takes `row` (its guard decides the feedback's answer)."""
    if row.guard == "feedback_reopens":
        return Command(row.action, solved=False, satisfaction=Satisfaction.DISSATISFIED)
    return Command(row.action)


def concern_at(status: Status) -> Concern:
    """A fresh concern moved to `status` by the real commands, with its events collected."""
    concern = new_concern()
    for action in PATHS[status]:
        perform(concern, Command(action))
    assert concern.status == status.value
    concern.collect_events()
    return concern


def concern_for_row(row: Transition, source: Status) -> Concern:
    """A concern in `source` whose facts let `row`'s guard pass (the chair's assign out of
    branch_meeting needs the meeting's adoption first), its events collected."""
    concern = concern_at(source)
    if row.guard == "adopted_at_meeting":
        perform(concern, Command(Action.ADOPT))
        assert concern.facts.adopted_at_meeting
        concern.collect_events()
    if row.guard == "fulfilled":
        perform(concern, Command(Action.RECORD_FEEDBACK))
        assert concern.facts.fulfilled
        concern.collect_events()
    if row.guard == "milestone_open":
        perform(concern, Command(Action.ADD_MILESTONE))
        concern.collect_events()
    return concern


def in_table(action: Action, status: Status) -> bool:
    """True when some row of the lifecycle table carries `action` out of `status`."""
    return any(t.action == action and status in t.sources for t in TRANSITIONS)


def snapshot(concern: Concern) -> dict[str, Any]:
    """The concern's state (everything but the pending events), deep-copied."""
    return {k: copy.deepcopy(v) for k, v in concern.__dict__.items() if k != "_pending_events"}


def principal(
    *roles: Role, grids: frozenset[str] = frozenset(), member_id: UUID | None = None
) -> Principal:
    """A principal built directly (no accounts table)."""
    name = "+".join(sorted(r.value for r in roles)) or "nobody"
    return Principal(
        id=f"p-{name}",
        name=name,
        roles=frozenset(roles),
        grids=grids,
        member_id=member_id,
    )
