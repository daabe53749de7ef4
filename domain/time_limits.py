"""Time limits per stage of a concern, and the colour of the time used (pure; the table's
events are domain/time_limit_table.py's).

A stage is the part of the lifecycle one party answers for: triage (intake → referred or
handled), committee (committee → shortlisted, assigned or declined), handling (assigned →
resolved) and feedback (resolved → feedback recorded). A row of the table gives a stage its
limit, for any category, library and handling mode, or for some: the most specific row that
matches wins. A due date given by a person (at handle-now, assign, after the meeting)
stands for the handling stage; the table gives the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.errors import Invalid
from domain.lifecycle import Status
from domain.vocabulary import Category, Labelled, Library
from domain.work_calendar import Unit, WorkCalendar, end_of_day


class Stage(Labelled):
    TRIAGE = ("triage", "分拣", "Triage")
    COMMITTEE = ("committee", "支委会研究", "With the committee")
    HANDLING = ("handling", "办理", "Handling")
    FEEDBACK = ("feedback", "回访", "Feedback")


class Mode(Labelled):
    """How the concern came to be handled."""

    HANDLE_NOW = ("handle_now", "即接即办", "Handled on receipt")
    COMMITTEE = ("committee", "支委会交办", "Assigned by the committee")
    MEETING = ("meeting", "党员大会议定", "Decided by a branch meeting")


class Colour(Labelled):
    GREEN = ("green", "正常", "On time")
    YELLOW = ("yellow", "临期", "Nearly due")
    RED = ("red", "超时", "Past its limit")


# The status a stage is the time of.
STAGE_OF_STATUS: dict[str, Stage] = {
    Status.INTAKE.value: Stage.TRIAGE,
    Status.COMMITTEE.value: Stage.COMMITTEE,
    Status.ASSIGNED.value: Stage.HANDLING,
}
AMOUNT_MAX = 1000


@dataclass(frozen=True)
class Limit:
    """One row of the table: a stage's limit, for a category, library and mode or any."""

    stage: Stage
    amount: float
    unit: Unit
    category: str | None = None
    library: str | None = None
    mode: str | None = None

    def matches(self, category: str, library: str, mode: str | None) -> bool:
        """True when each key the row names is the concern's."""
        return (
            (self.category is None or self.category == category)
            and (self.library is None or self.library == library)
            and (self.mode is None or self.mode == mode)
        )

    @property
    def specificity(self) -> int:
        return sum(k is not None for k in (self.category, self.library, self.mode))

    def as_dict(self) -> dict[str, Any]:
        """The row as the API shows it."""
        return {
            "stage": self.stage.value,
            "amount": self.amount,
            "unit": self.unit.value,
            "category": self.category,
            "library": self.library,
            "mode": self.mode,
        }


@dataclass(frozen=True)
class Thresholds:
    """The colours' thresholds, in percent of the limit used."""

    yellow: int = 80
    red: int = 100

    def colour(self, used_percent: float, past_deadline: bool = False) -> Colour:
        """Green under yellow, yellow from yellow to red, red past red (and, with red at
        100 %, once the deadline has passed: a night after a working-hours deadline uses
        no working time, yet the deadline is gone)."""
        if used_percent > self.red or (past_deadline and self.red <= 100):
            return Colour.RED
        if used_percent >= self.yellow:
            return Colour.YELLOW
        return Colour.GREEN


DEFAULT_LIMITS: tuple[Limit, ...] = (
    Limit(Stage.TRIAGE, 1, Unit.WORKING_DAYS),
    Limit(Stage.COMMITTEE, 5, Unit.WORKING_DAYS),
    Limit(Stage.HANDLING, 10, Unit.WORKING_DAYS),
    Limit(Stage.HANDLING, 2, Unit.WORKING_DAYS, mode=Mode.HANDLE_NOW.value),
    Limit(Stage.HANDLING, 15, Unit.WORKING_DAYS, library=Library.HARDSHIP.value),
    Limit(Stage.FEEDBACK, 5, Unit.WORKING_DAYS),
)
DEFAULT_THRESHOLDS = Thresholds()


def limit_for(
    limits: Sequence[Limit], stage: Stage, category: str, library: str, mode: str | None
) -> Limit | None:
    """The most specific row for the stage that matches (the first of equals), if any."""
    found = [r for r in limits if r.stage == stage and r.matches(category, library, mode)]
    if not found:
        return None
    best = max(r.specificity for r in found)
    return next(r for r in found if r.specificity == best)


def parse_limits(rows: Sequence[dict[str, Any]]) -> list[Limit]:
    """Rows as the API takes them, checked; Invalid naming `limits[i].field`."""
    limits: list[Limit] = []
    problems: list[tuple[str, str]] = []
    for i, row in enumerate(rows):
        where = f"limits[{i}]"
        try:
            stage = Stage(row["stage"])
            unit = Unit(row["unit"])
        except (KeyError, ValueError):
            problems.append((f"{where}.stage", "needs a known stage and unit"))
            continue
        amount = row.get("amount")
        if not isinstance(amount, int | float) or not 0 < amount <= AMOUNT_MAX:
            problems.append((f"{where}.amount", f"must be more than 0 and at most {AMOUNT_MAX}"))
            continue
        category, library, mode = row.get("category"), row.get("library"), row.get("mode")
        for name, value, vocabulary in (
            ("category", category, Category),
            ("library", library, Library),
            ("mode", mode, Mode),
        ):
            if value is not None and value not in {m.value for m in vocabulary}:
                problems.append((f"{where}.{name}", f"is not a known {name}"))
        limits.append(Limit(stage, float(amount), unit, category, library, mode))
    for stage in Stage:
        if not any(r.stage == stage and r.specificity == 0 for r in limits):
            problems.append(("limits", f"needs a row for the stage {stage.value} for any concern"))
    if problems:
        raise Invalid(problems)
    return limits


# A suspension (挂账) of the stage: when the clock stopped, and when it ran again (None
# while it is still suspended).
Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class StageClock:
    """A stage's deadline and how much of it is used, on the work calendar; `paused` are the
    stage's suspensions, whose time neither counts as used nor brings the deadline nearer
    (`moved`: those ended are already in the deadline, as the handling stage's due date
    moved when the concern resumed)."""

    stage: Stage
    started_at: datetime
    deadline: datetime
    unit: Unit
    paused: tuple[Pause, ...] = ()
    moved: bool = False

    @property
    def suspended(self) -> bool:
        """True while the stage's clock is stopped."""
        return any(end is None for _, end in self.paused)

    def _paused(self, calendar: WorkCalendar, now: datetime, ended_too: bool) -> float:
        total = 0.0
        for start, end in self.paused:
            if end is None or ended_too:
                stop = now if end is None else min(end, now)
                total += calendar.used(max(start, self.started_at), stop, self.unit)
        return total

    def measure(self, calendar: WorkCalendar, now: datetime) -> tuple[datetime, float, float]:
        """The deadline at `now` (later by the time suspended), the time used and the
        limit, both without the suspended time, in the stage's unit."""
        deadline = self.deadline
        shift = self._paused(calendar, now, ended_too=not self.moved)
        if shift > 0:
            deadline = calendar.deadline(deadline, shift, self.unit)
        paused = self._paused(calendar, now, ended_too=True)
        used = calendar.used(self.started_at, now, self.unit) - paused
        limit = calendar.used(self.started_at, deadline, self.unit) - paused
        return deadline, max(used, 0.0), limit

    def deadline_at(self, calendar: WorkCalendar, now: datetime) -> datetime:
        """The stage's deadline at `now`: later by the time it was suspended."""
        return self.measure(calendar, now)[0]

    def used_percent(self, calendar: WorkCalendar, now: datetime) -> int:
        """The share of the limit used by `now` (rounded down; the time suspended not
        counted)."""
        deadline, used, limit = self.measure(calendar, now)
        if limit <= 0:
            return 100 if now >= deadline else 0
        return int(used / limit * 100 + 1e-9)

    def as_dict(
        self, calendar: WorkCalendar, now: datetime, thresholds: Thresholds
    ) -> dict[str, Any]:
        """The `stage` of a concern read: name, deadline, used percent, colour, suspended."""
        deadline, used, limit = self.measure(calendar, now)
        if limit <= 0:
            percent, exact = (100 if now >= deadline else 0), 100.0
        else:
            percent, exact = int(used / limit * 100 + 1e-9), used / limit * 100
        colour = thresholds.colour(exact, past_deadline=now > deadline)
        return {
            "name": self.stage.value,
            "started_at": self.started_at.isoformat(),
            "deadline": deadline.isoformat(),
            "unit": self.unit.value,
            "used_percent": percent,
            "colour": colour.value,
            "suspended": self.suspended,
        }


@dataclass(frozen=True)
class StageFacts:
    """What the stage's clock needs of a concern (from the aggregate or the list's row)."""

    status: str
    category: str
    library: str
    since: datetime  # when the concern entered its status
    mode: str | None = None
    due_on: date | None = None
    feedback_pending: bool = False
    # The suspension (挂账) within this stage, if any: at most one per concern.
    paused: tuple[Pause, ...] = ()


def stage_pauses(
    since: datetime, suspended_at: datetime | None, resumed_at: datetime | None
) -> tuple[Pause, ...]:
    """The concern's suspension as the stage started at `since` sees it: none if it came
    before the stage."""
    if suspended_at is None or suspended_at < since:
        return ()
    return ((suspended_at, resumed_at),)


def stage_clock(
    facts: StageFacts, limits: Sequence[Limit], calendar: WorkCalendar
) -> StageClock | None:
    """The open stage's clock, or None (closed, on a meeting's agenda, or no limit)."""
    if facts.status == Status.RESOLVED.value:
        if not facts.feedback_pending:
            return None
        stage = Stage.FEEDBACK
    elif facts.status in STAGE_OF_STATUS:
        stage = STAGE_OF_STATUS[facts.status]
    else:
        return None
    row = limit_for(limits, stage, facts.category, facts.library, facts.mode)
    if row is None:
        return None
    if stage == Stage.HANDLING and facts.due_on is not None:
        # A due date a person gave stands; time used is still counted in the row's unit.
        # A suspension that ended already moved it (the Resumed event's due date).
        deadline = end_of_day(facts.due_on, calendar.zone)
        return StageClock(stage, facts.since, deadline, row.unit, facts.paused, moved=True)
    deadline = calendar.deadline(facts.since, row.amount, row.unit)
    return StageClock(stage, facts.since, deadline, row.unit, facts.paused)
