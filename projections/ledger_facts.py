"""A concern's and a visit's ledger rows as the figures read them (the clock, the facts), and
the shape of one figure (projections/ledger_figures.py holds the table of figures).

Pure: rows in, facts out (the read model's rows come from projections.ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from domain.lifecycle import Status

Subject = Literal["concerns", "visits"]
Kind = Literal["count", "distinct", "median", "reasons", "rate", "residents"]


@dataclass(frozen=True)
class Clock:
    """What the figures are computed against: now, the community's zone, the response
    window (an assigned concern's owner should act within it)."""

    now: datetime
    zone: ZoneInfo
    response_window: timedelta = timedelta(days=2)

    @property
    def today(self) -> date:
        """Today in the community's time zone."""
        return self.now.astimezone(self.zone).date()


# -- one concern, one visit, as the figures see them --------------------------------------


def _time(text: str | None, zone: ZoneInfo) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(zone) if text else None


@dataclass(frozen=True)
class ConcernFacts:
    """A concern's ledger row read against the clock."""

    id: str
    reference: str
    title: str
    status: str
    category: str
    library: str
    grid: str
    raised_at: datetime
    referred_at: datetime | None
    shortlisted_at: datetime | None
    adopted_at: datetime | None
    assigned_at: datetime | None
    first_action_at: datetime | None
    due_on: date | None
    resolved_at: datetime | None
    resolved_on_time: bool | None
    resolutions: int
    decline_reason: str | None
    feedback_count: int
    solved: bool | None
    satisfaction: str | None
    reopened_count: int
    extended_count: int
    responded: bool  # the owner's first action came within the response window
    response_due: bool  # assigned, and the owner acted or the window has passed
    # Residents who raised it (whoever raised it and its co-signers); 0 once merged: the
    # surviving concern counts them.
    residents: int = 1
    # Suspensions (挂账) approved; the stages recorded overdue (超期) and those an approved
    # appeal exempts (the fact stays, the on-time figures count the stage as on time).
    suspended_count: int = 0
    overdue_stages: frozenset[str] = frozenset()
    exempt_stages: frozenset[str] = frozenset()

    @property
    def voided(self) -> bool:
        """Voided (作废): it did not meet the filing conditions, and leaves the denominators."""
        return self.status == Status.VOIDED.value

    @property
    def on_time(self) -> bool:
        """Resolved by the due date, or late with the handling stage exempted by an appeal."""
        return bool(self.resolved_on_time) or "handling" in self.exempt_stages

    @property
    def overdue(self) -> bool:
        """Some stage was recorded overdue and no approved appeal exempts it."""
        return bool(self.overdue_stages - self.exempt_stages)

    @property
    def month(self) -> str:
        """The cohort: the month the concern was raised, in the community's zone."""
        return self.raised_at.strftime("%Y-%m")

    @property
    def resolved(self) -> bool:
        """Resolved now (a reopened concern is open again until resolved again)."""
        return self.status == Status.RESOLVED.value

    @property
    def days_to_resolve(self) -> int | None:
        """Calendar days from raised to (the latest) resolved, local dates."""
        if not self.resolved or self.resolved_at is None:
            return None
        return (self.resolved_at.date() - self.raised_at.date()).days

    def due(self, today: date) -> bool:
        """Due for closure: has a due date that is reached (passed) or was resolved against."""
        return self.due_on is not None and (self.resolved or self.due_on < today)


def concern_facts(row: Any, clock: Clock) -> ConcernFacts:
    """A concern's ledger row (projections.ledger) read against `clock`."""
    zone = clock.zone
    raised_at = _time(row["raised_at"], zone)
    assert raised_at is not None  # noqa: S101 - the column is NOT NULL
    assigned_at = _time(row["assigned_at"], zone)
    first_action_at = _time(row["first_action_at"], zone)
    window = clock.response_window
    responded = (
        assigned_at is not None
        and first_action_at is not None
        and first_action_at - assigned_at <= window
    )
    # Still inside its window with nothing done yet: not late, not on time, not counted.
    response_due = assigned_at is not None and (
        first_action_at is not None or clock.now - assigned_at > window
    )
    on_time = row["resolved_on_time"]
    solved = row["solved"]
    return ConcernFacts(
        id=row["id"],
        reference=row["reference"],
        title=row["title"],
        status=row["status"],
        category=row["category"],
        library=row["library"],
        grid=row["grid"],
        raised_at=raised_at,
        referred_at=_time(row["referred_at"], zone),
        shortlisted_at=_time(row["shortlisted_at"], zone),
        adopted_at=_time(row["adopted_at"], zone),
        assigned_at=assigned_at,
        first_action_at=first_action_at,
        due_on=date.fromisoformat(row["due_on"]) if row["due_on"] else None,
        resolved_at=_time(row["resolved_at"], zone),
        resolved_on_time=None if on_time is None else bool(on_time),
        resolutions=int(row["resolutions"]),
        decline_reason=row["decline_reason"],
        feedback_count=int(row["feedback_count"]),
        solved=None if solved is None else bool(solved),
        satisfaction=row["satisfaction"],
        reopened_count=int(row["reopened_count"]),
        extended_count=int(row["extended_count"]),
        responded=responded,
        response_due=response_due,
        # A row made before residents were counted (or by hand) holds one resident.
        residents=int(_column(row, "residents", 1)),
        suspended_count=int(_column(row, "suspended_count", 0)),
        overdue_stages=_stages(_column(row, "overdue_stages", None)),
        exempt_stages=_stages(_column(row, "exempt_stages", None)),
    )


def _column(row: Any, name: str, default: Any) -> Any:
    # A row made by hand (the unit tests) may lack the later columns.
    return row[name] if name in row.keys() else default  # noqa: SIM118


def _stages(text: str | None) -> frozenset[str]:
    """The stages a ledger column lists, comma-separated."""
    return frozenset(s for s in (text or "").split(",") if s)


@dataclass(frozen=True)
class VisitFacts:
    """A visit's ledger row."""

    id: str
    grid: str
    household_key: str
    visited_on: date
    priority_visit: str | None
    recorded_by: str
    concern_count: int
    category: None = None  # visits have no category: they group under none

    @property
    def month(self) -> str:
        """The month of the visit's date."""
        return self.visited_on.strftime("%Y-%m")


def visit_facts(row: Any) -> VisitFacts:
    """A visit's ledger row (projections.ledger) as the figures read it."""
    return VisitFacts(
        id=row["id"],
        grid=row["grid"],
        household_key=row["household_key"],
        visited_on=date.fromisoformat(row["visited_on"]),
        priority_visit=row["priority_visit"],
        recorded_by=row["recorded_by"],
        concern_count=int(row["concern_count"]),
    )


# -- the table of figures --------------------------------------------------------------------

ConcernTest = Callable[[ConcernFacts, date], bool]
VisitTest = Callable[[VisitFacts], bool]


@dataclass(frozen=True)
class Figure:
    """One figure of the ledger: its name, labels, what it counts and how.

    `count` figures count the concerns (or visits) their test accepts; `distinct` counts
    distinct households among the visits of `basis`; `median` and `reasons` summarise the
    concerns of `basis`; a `rate` is `numerator` ÷ `denominator`, two count figures.
    """

    name: str
    zh: str
    en: str
    how_zh: str
    how_en: str
    subject: Subject
    kind: Kind = "count"
    concern_test: ConcernTest | None = None
    visit_test: VisitTest | None = None
    basis: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    # Voided concerns leave every figure but those that count them (filed, voided).
    counts_voided: bool = False

    @property
    def opens(self) -> str | None:
        """The count figure whose list this figure opens into (None for a rate)."""
        return self.name if self.kind == "count" else self.basis

    @property
    def parts(self) -> tuple[str, str]:
        """A rate's numerator and denominator figures."""
        if self.numerator is None or self.denominator is None:
            raise ValueError(f"{self.name} is not a rate")
        return self.numerator, self.denominator

    def as_dict(self) -> dict[str, Any]:
        """The definition as plain data (the ledger's `figures` and the XLSX's second sheet)."""
        return {
            "name": self.name,
            "zh": self.zh,
            "en": self.en,
            "how_zh": self.how_zh,
            "how_en": self.how_en,
            "subject": self.subject,
            "kind": self.kind,
            "opens": self.opens,
            "numerator": self.numerator,
            "denominator": self.denominator,
        }
