"""The Visit aggregate: one household visit (上门走访), recorded even when it yields no concern.

The ledger counts households visited and priority visits (四访四问) from these events, and
member points credit the collector who made the visit. The household (a resident's address)
is sealed with a key of its own (`household_ref`, erased like a resident's); the event keeps
a keyed hash of it for the ledger. Visits recorded before that hold the household as text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.vocabulary import PriorityVisit

GRID_MAX = 64
HOUSEHOLD_MAX = 100
NOTES_MAX = 2000
CONCERNS_MAX = 50


@dataclass(frozen=True)
class SealedHousehold:
    """What a visit's event holds of the household: its pseudonym, the ciphertext, and a
    keyed hash the ledger counts households by."""

    ref: str
    ciphertext: str
    key: str


# Seals a household's text in its grid: made by the application from its keyring.
Sealer = Callable[[str, str], SealedHousehold]


class Visit(Aggregate):
    """A collector's visit to one household on one day."""

    class Recorded(Aggregate.Created):
        """A visit recorded. Version 2 (households sealed) always has the three household
        fields; version 1, stored before, has the household as text and none of them. The
        stored topic stays `domain.visit:Visit.Recorded`; the version is in the stored
        state (`class_version`), and the library upcasts a version 1 event as it loads it.
        """

        class_version = 2

        grid: str
        household: str
        visited_on: date
        priority_visit: str | None
        notes: str
        concern_ids: list[UUID]
        actor_id: str
        actor_role: str
        at: datetime
        household_ref: str | None
        household_sealed: str | None
        household_key: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            """Version 1 had no sealed household: its text stays in `household`."""
            for name in ("household_ref", "household_sealed", "household_key"):
                state.setdefault(name, None)

    @event(Recorded)
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
        # No defaults: a version 1 event gets them from `Recorded.upcast_v1_v2`.
        household_ref: str | None,
        household_sealed: str | None,
        household_key: str | None,
    ) -> None:
        self.grid = grid
        # The text only in visits recorded before households were sealed; "" since.
        self.household = household
        self.household_ref = household_ref
        self.household_sealed = household_sealed
        self.household_key = household_key
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
        seal: Sealer,
    ) -> Visit:
        """Record a visit; it may not lie in the future, and names each concern once. The
        household goes into the event only as `seal` makes it, never as text."""
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
        sealed = seal(grid_name, household_name)
        return cls(
            grid=grid_name,
            household="",
            visited_on=visited_on,
            priority_visit=priority_visit.value if priority_visit else None,
            notes=text,
            concern_ids=list(concern_ids),
            actor_id=actor_id,
            actor_role=actor_role,
            at=at,
            household_ref=sealed.ref,
            household_sealed=sealed.ciphertext,
            household_key=sealed.key,
        )
