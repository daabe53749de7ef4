"""The time limits table and each open concern's stage: its deadline on the work calendar,
the time used and its colour."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.base import ATTEMPTS, back_off
from application.calendars import CalendarCommands
from application.commands import CommandResult, Idempotency
from domain.concern import Concern
from domain.errors import Conflict
from domain.permissions import require_role
from domain.principal import Actor, Principal
from domain.time_limit_table import TimeLimitTable
from domain.time_limits import Mode, Stage, StageClock, StageFacts, stage_clock, stage_pauses
from domain.vocabulary import Role


def stage_facts(concern: Concern, events: Iterable[Any]) -> StageFacts:
    """When the concern entered its status, and how it came to be handled, from its
    events (the list's row keeps the same two columns: projections/concern_fold.py)."""
    status, since, mode = "intake", concern.raised_at, None
    for e in events:
        moved = getattr(e, "status", None)
        if moved is not None and moved != status:
            status, since = moved, e.at
        mode = event_mode(e) or mode
    held = concern.suspension
    return StageFacts(
        status=concern.status,
        category=concern.category,
        library=concern.library,
        since=since,
        mode=mode,
        due_on=concern.due_on,
        feedback_pending=concern.feedback_pending,
        paused=stage_pauses(since, held["since"], held["ended"]) if held else (),
    )


def event_mode(e: Any) -> str | None:
    """The handling mode an event starts, if it starts one."""
    kind = type(e).__name__
    if kind == "HandledNow":
        return Mode.HANDLE_NOW.value
    if kind == "Assigned":
        by_chair = e.actor_role == Role.CHAIR.value
        return Mode.MEETING.value if by_chair else Mode.COMMITTEE.value
    return None


# The stages StageMissed is recorded for: a missed due date of the handling stage is
# DeadlineMissed, an overdue answer FeedbackOverdue (MINQING_FEEDBACK_WINDOW_DAYS), as before.
WATCHED = frozenset({Stage.TRIAGE, Stage.COMMITTEE})


def row_facts(row: Any) -> StageFacts:
    """A concern list row's stage facts."""
    due_on = row["due_on"]
    since = datetime.fromisoformat(row["stage_since"] or row["raised_at"])
    suspended_at, resumed_at = row["suspended_at"], row["resumed_at"]
    return StageFacts(
        status=row["status"],
        category=row["category"],
        library=row["library"],
        since=since,
        mode=row["mode"],
        due_on=date.fromisoformat(due_on) if due_on else None,
        feedback_pending=bool(row["feedback_pending"]),
        paused=stage_pauses(
            since,
            datetime.fromisoformat(suspended_at) if suspended_at else None,
            datetime.fromisoformat(resumed_at) if resumed_at else None,
        ),
    )


class TimeLimitCommands(CalendarCommands):
    """The table of limits (read by all, changed by admins) and the stage clocks."""

    def time_limit_table(self) -> TimeLimitTable:
        """The table as stored, or the defaults until an admin changes it."""
        found = self._get(TimeLimitTable.create_id())
        if isinstance(found, TimeLimitTable):
            return found
        return TimeLimitTable.start(Actor("minqing", Role.SYSTEM), self.clock())

    def set_time_limits(
        self,
        principal: Principal,
        rows: list[dict[str, Any]],
        yellow: int,
        red: int,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Replace the time limits table (admin)."""
        require_role(principal, Role.ADMIN, "changing the time limits")
        if (replay := self._replay(idem)) is not None:
            return replay
        actor = Actor(principal.id, Role.ADMIN)

        def attempt() -> CommandResult | None:
            table = self.time_limit_table()
            table.change(rows, yellow, red, actor, self.clock())
            result = CommandResult(id=str(table.id), version=table.version, position=0)
            return self._save(table, [], result, idem, [])

        return self._until_saved(attempt, "the time limits kept changing; try again")

    def stage_reader(
        self, now: datetime | None = None
    ) -> Callable[[StageFacts], dict[str, Any] | None]:
        """What gives the `stage` of many concerns at `now`, the table and calendar read
        once (a page of the list)."""
        table = self.time_limit_table()
        now = now or self.clock()
        # Stages start at most a few years back; older ones are long past their limits.
        calendar = self.work_calendar(now.year - 2, now.year + 1)
        limits, thresholds = table.limits, table.thresholds

        def read(facts: StageFacts) -> dict[str, Any] | None:
            clock = stage_clock(facts, limits, calendar)
            return None if clock is None else clock.as_dict(calendar, now, thresholds)

        return read

    def row_stage_reader(self) -> Callable[[Any], dict[str, Any] | None]:
        """The same for rows of the concern list (its `stage_since` and `mode` columns)."""
        read = self.stage_reader()
        return lambda row: read(row_facts(row))

    def stage_clock_of(self, concern: Concern) -> StageClock | None:
        """The concern's open stage clock (its deadline on the work calendar), if any."""
        events = self.repository.event_store.get(concern.id, lte=concern.version)
        facts = stage_facts(concern, events)
        now = self.clock()
        calendar = self.work_calendar(now.year - 2, now.year + 1)
        return stage_clock(facts, self.time_limit_table().limits, calendar)

    def record_missed_stage(self, concern_id: UUID) -> list[str]:
        """Record StageMissed on a concern whose triage or committee stage passed its limit;
        never twice (handling has DeadlineMissed, feedback FeedbackOverdue)."""
        watcher = Actor("system:deadline-watcher", Role.SYSTEM)
        for attempt in range(ATTEMPTS):
            back_off(attempt)
            concern = self._find_concern(concern_id)
            clock = self.stage_clock_of(concern)
            now = self.clock()
            if (
                clock is None
                or clock.stage not in WATCHED
                or now <= clock.deadline
                or concern.stage_missed(clock.stage.value, clock.started_at)
            ):
                return []
            concern.note_stage_missed(
                watcher, clock.stage.value, clock.started_at, clock.deadline, now
            )
            try:
                self.save(concern)
            except IntegrityError:
                continue
            return ["StageMissed"]
        raise Conflict(f"concern {concern_id} kept changing; try again")

    def stage_of(self, concern: Concern, now: datetime | None = None) -> dict[str, Any] | None:
        """The concern's open stage: name, deadline, used percent, colour, suspended."""
        events = self.repository.event_store.get(concern.id, lte=concern.version)
        return self.stage_reader(now)(stage_facts(concern, events))
