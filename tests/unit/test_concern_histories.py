"""Random histories: any sequence of commands, allowed or not, leaves a sound concern.

Each example raises a concern and tries a random list of commands on it, some with input
that breaks the command's own rule. The lifecycle table is the oracle: a command is taken
exactly when the table allows it from the current status and its input is valid, and then
the concern lands on the row's destination. A refused command records nothing and changes
nothing, and folding the recorded events rebuilds the concern exactly, at every version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.concern import Concern
from domain.errors import Invalid, TransitionNotAllowed
from domain.lifecycle import Action, Facts, Status, allowed_actions, next_status
from domain.vocabulary import Satisfaction
from tests.unit.builders import (
    AT,
    COMMAND_ACTIONS,
    MEETING_ACTIONS,
    MEETING_ID,
    Command,
    new_concern,
    perform,
    snapshot,
)

STATUS_VALUES = {s.value for s in Status}

# Actions that end a concern for good.
ENDING = frozenset({Action.DECLINE, Action.MERGE_INTO, Action.WITHDRAW, Action.REJECT})


@dataclass(frozen=True)
class Choice:
    """One step of a history: which command to try, picked against the current status.

    `mode` "advance" picks an action the table allows now that does not end the concern
    (so histories get deep: resolved, reopened, resolved again); "allowed" any action the
    table allows now; "any" any command at all, mostly ones that are refused.
    """

    mode: str
    pick: int
    valid: bool
    solved: bool
    satisfaction: Satisfaction

    def command(self, concern: Concern) -> Command:
        allowed = [
            a
            for a in allowed_actions(Status(concern.status), concern.facts)
            if a in COMMAND_ACTIONS
        ]
        pools = {
            "advance": [a for a in allowed if a not in ENDING],
            "allowed": allowed,
            "any": list(COMMAND_ACTIONS),
        }
        pool = pools[self.mode] or list(COMMAND_ACTIONS)
        action = pool[self.pick % len(pool)]
        # The meeting's commands take no input of their own that could be invalid.
        valid = self.valid or action in MEETING_ACTIONS
        return Command(action, valid, self.solved, self.satisfaction)


choices = st.builds(
    Choice,
    mode=st.sampled_from(["advance", "advance", "advance", "allowed", "any", "any"]),
    pick=st.integers(min_value=0, max_value=len(COMMAND_ACTIONS) - 1),
    # Mostly valid input, so histories move on.
    valid=st.sampled_from([True, True, True, False]),
    solved=st.booleans(),
    satisfaction=st.sampled_from(list(Satisfaction)),
)
histories = st.lists(choices, max_size=40)


def _facts_for(concern: Concern, command: Command) -> Facts:
    """The facts the lifecycle sees for this command (the feedback's answer counts)."""
    if command.action != Action.RECORD_FEEDBACK:
        return concern.facts
    reopens = (not command.solved) or command.satisfaction == Satisfaction.DISSATISFIED
    return replace(concern.facts, reopens=reopens)


def _rebuild(events: list[Any]) -> Concern:
    """Fold the events the way the event store does when it loads an aggregate."""
    aggregate: Concern | None = None
    for e in events:
        aggregate = e.mutate(aggregate)
    assert aggregate is not None
    return aggregate


def _check_invariants(concern: Concern, events: list[Any]) -> None:
    assert concern.status in STATUS_VALUES
    names = [type(e).__name__ for e in events]
    assert concern.version == len(events)
    assert concern.round == 1 + names.count("Reopened")
    assert len(concern.feedback) == names.count("FeedbackRecorded")
    if concern.feedback_pending:
        assert concern.status == Status.RESOLVED.value
    if concern.status == Status.ASSIGNED.value:
        assert concern.owner is not None
        assert concern.duty_role is not None
        assert concern.due_on is not None
        assert concern.due_history[-1]["due_on"] == concern.due_on
    if concern.status == Status.RESOLVED.value:
        assert concern.summary is not None
        assert concern.resolved_at is not None
        if not concern.feedback_pending:
            # Resolved and nothing pending: this round's feedback closed it.
            assert concern.feedback[-1]["round"] == concern.round
    if concern.status in {Status.INTAKE.value, Status.COMMITTEE.value}:
        assert concern.owner is None
        assert concern.due_on is None
    if concern.status == Status.BRANCH_MEETING.value:
        assert concern.meeting_id == MEETING_ID
        assert concern.owner is None


@settings(max_examples=200, deadline=None)
@given(histories)
def test_any_history_follows_the_table_and_rebuilds_from_its_events(
    history: list[Choice],
) -> None:
    concern = new_concern()
    events: list[Any] = list(concern.collect_events())
    states: dict[int, dict[str, Any]] = {concern.version: snapshot(concern)}

    for step, choice in enumerate(history, start=1):
        command = choice.command(concern)
        at = AT + timedelta(hours=step)
        status = Status(concern.status)
        facts = _facts_for(concern, command)
        allowed = command.action in allowed_actions(status, facts)
        before = snapshot(concern)

        error: TransitionNotAllowed | Invalid | None = None
        try:
            perform(concern, command, at)
        except (TransitionNotAllowed, Invalid) as exc:
            error = exc

        if isinstance(error, TransitionNotAllowed):
            assert not allowed
            assert error.status == status
            assert error.action == command.action
            assert error.allowed == allowed_actions(status, facts)
        elif isinstance(error, Invalid):
            assert allowed
            assert not command.valid, error.fields
            assert error.fields
        else:
            assert allowed
            assert command.valid
            assert concern.status == next_status(status, command.action, facts).value

        new = list(concern.collect_events())
        if error is not None:
            assert new == []
            assert snapshot(concern) == before
        else:
            assert new
            assert [e.originator_version for e in new] == list(
                range(before["_version"] + 1, before["_version"] + 1 + len(new))
            )
            events.extend(new)
            states[concern.version] = snapshot(concern)
        _check_invariants(concern, events)

    assert snapshot(_rebuild(events)) == snapshot(concern)
    # And the concern as it was at every earlier version (what a supervisor audits).
    for version, state in states.items():
        assert snapshot(_rebuild(events[:version])) == state


@settings(max_examples=200, deadline=None)
@given(histories)
def test_a_refused_command_never_changes_the_concern(history: list[Choice]) -> None:
    concern = new_concern()
    for step, choice in enumerate(history, start=1):
        command = choice.command(concern)
        version, before = concern.version, snapshot(concern)
        pending = len(concern.pending_events)
        try:
            perform(concern, command, AT + timedelta(minutes=step))
        except (TransitionNotAllowed, Invalid):
            assert concern.version == version
            assert len(concern.pending_events) == pending
            assert snapshot(concern) == before
        assert concern.status in STATUS_VALUES


def test_the_worked_story_rebuilds_from_its_events() -> None:
    concern = new_concern()
    for action in (Action.HANDLE_NOW, Action.RECORD_PROGRESS, Action.RESOLVE):
        perform(concern, Command(action))
    perform(concern, Command(Action.RECORD_FEEDBACK, satisfaction=Satisfaction.SATISFIED))
    events = list(concern.collect_events())

    rebuilt = _rebuild(events)

    assert [type(e).__name__ for e in events] == [
        "Raised",
        "HandledNow",
        "ProgressRecorded",
        "Resolved",
        "FeedbackRecorded",
    ]
    assert snapshot(rebuilt) == snapshot(concern)
    assert rebuilt.status == Status.RESOLVED.value
