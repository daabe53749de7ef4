"""One year of the work calendar: its holidays and make-up working days, every change an event.

The year starts from a seed (the official holiday table where Minqing has one, else the
weekdays alone, said by `source`); an admin then marks single days as holidays or working
days. Its id follows from the year, so there is at most one per year."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.principal import Actor
from domain.work_calendar import DayKind, weekday_kind

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:minqing:calendar")
NAME_MAX = 100
# Where a year's seed came from.
SEED_OFFICIAL = "chinese-calendar"
SEED_WEEKDAYS = "weekdays"


class CalendarYear(Aggregate):
    """The holidays and working days of one year beyond the weekday rule."""

    @staticmethod
    def create_id(year: int) -> UUID:
        return uuid5(_NAMESPACE, f"calendar:{year}")

    @event("Seeded")
    def __init__(
        self,
        *,
        year: int,
        source: str,
        days: dict[str, dict[str, str]],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.year = year
        self.source = source
        # ISO date → {"kind", "name"}: only the days the weekday rule does not give.
        self.days: dict[str, dict[str, str]] = dict(days)
        self.changes = 0
        self.updated_at = at

    @classmethod
    def seed(
        cls, year: int, source: str, days: dict[str, dict[str, str]], actor: Actor, at: datetime
    ) -> CalendarYear:
        """Start a year from its seed."""
        return cls(
            year=year,
            source=source,
            days=days,
            actor_id=actor.id,
            actor_role=actor.role.value,
            at=at,
        )

    def mark(self, day: date, kind: DayKind, name: str | None, actor: Actor, at: datetime) -> None:
        """Make `day` a holiday or a working day (with a name, e.g. 国庆节 or 国庆节调休)."""
        if day.year != self.year:
            raise Invalid([("day", f"must be a day of {self.year}")])
        text = (name or "").strip()
        if len(text) > NAME_MAX:
            raise Invalid([("name", f"must be at most {NAME_MAX} characters")])
        previous = self.kind_of(day)
        self._day_marked(day, kind.value, text, previous, actor.id, actor.role.value, at)

    def kind_of(self, day: date) -> str:
        """`holiday` or `workday`, as this year says."""
        entry = self.days.get(day.isoformat())
        return entry["kind"] if entry else weekday_kind(day)

    def overrides(self) -> dict[date, str]:
        """Every day whose kind is not the weekday rule's."""
        return {date.fromisoformat(d): e["kind"] for d, e in self.days.items()}

    @event("DayMarked")
    def _day_marked(
        self,
        day: date,
        kind: str,
        name: str,
        previous_kind: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        key = day.isoformat()
        if kind == weekday_kind(day) and not name:
            self.days.pop(key, None)
        else:
            self.days[key] = {"kind": kind, "name": name}
        self.changes += 1
        self.updated_at = at

    def as_dict(self) -> dict[str, Any]:
        """The year's explicit days, in date order."""
        return {d: self.days[d] for d in sorted(self.days)}
