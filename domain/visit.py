"""The Visit aggregate: one household visit (上门走访), recorded even when it yields no concern.

The ledger counts households visited and priority visits (四访四问) from these events, and
member points credit the collector who made the visit.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.vocabulary import PriorityVisit

GRID_MAX = 64
HOUSEHOLD_MAX = 100
NOTES_MAX = 2000
CONCERNS_MAX = 50


class Visit(Aggregate):
    """A collector's visit to one household on one day."""

    @event("Recorded")
    def __init__(
        self,
        *,
        grid: str,
        household: str,
        visited_on: date,
        priority_visit: str | None,
        notes: str,
        concern_ids: list[UUID],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.grid = grid
        self.household = household
        self.visited_on = visited_on
        self.priority_visit = priority_visit
        self.notes = notes
        self.concern_ids = concern_ids
        self.recorded_by = actor_id
        self.recorded_at = at

    @classmethod
    def record(
        cls,
        *,
        grid: str,
        household: str,
        visited_on: date,
        priority_visit: PriorityVisit | None,
        notes: str | None,
        concern_ids: list[UUID],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> Visit:
        """Record a visit; it may not lie in the future, and names each concern once."""
        problems: list[tuple[str, str]] = []
        grid_name = grid.strip()
        if not grid_name or len(grid_name) > GRID_MAX:
            problems.append(("grid", f"is required, at most {GRID_MAX} characters"))
        household_name = household.strip()
        if not household_name or len(household_name) > HOUSEHOLD_MAX:
            problems.append(("household", f"is required, at most {HOUSEHOLD_MAX} characters"))
        if visited_on > at.date():
            problems.append(("visited_on", "must not be in the future"))
        text = (notes or "").strip()
        if len(text) > NOTES_MAX:
            problems.append(("notes", f"must be at most {NOTES_MAX} characters"))
        if len(set(concern_ids)) != len(concern_ids):
            problems.append(("concern_ids", "must not name a concern twice"))
        if len(concern_ids) > CONCERNS_MAX:
            problems.append(("concern_ids", f"must name at most {CONCERNS_MAX} concerns"))
        if problems:
            raise Invalid(problems)
        return cls(
            grid=grid_name,
            household=household_name,
            visited_on=visited_on,
            priority_visit=priority_visit.value if priority_visit else None,
            notes=text,
            concern_ids=list(concern_ids),
            actor_id=actor_id,
            actor_role=actor_role,
            at=at,
        )
