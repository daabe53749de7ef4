"""The work calendar: a year as stored (or as its seed says, until an admin changes a day),
marking a day, and the calendar the time limits are counted on."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from application.base import MinqingBase
from application.commands import CommandResult, Idempotency
from application.holiday_seed import seed
from domain.calendar_year import SEED_WEEKDAYS, CalendarYear
from domain.errors import Invalid
from domain.permissions import require_role
from domain.principal import Actor, Principal
from domain.vocabulary import Role
from domain.work_calendar import DayKind, WorkCalendar

# The years a calendar can be asked for: wide enough for any record, narrow enough to refuse
# a typo such as 20266.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_year(year: int) -> None:
    """422 for a year outside the calendar's range."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid([("year", f"must be between {FIRST_YEAR} and {LAST_YEAR}")])


def fallback_note(year: int) -> str:
    """What the calendar says of a year seeded from the weekdays alone."""
    return (
        f"no official holiday table for {year}: counted on weekdays only (Monday to Friday)"
        " until an admin marks its holidays and make-up working days"
    )


class CalendarCommands(MinqingBase):
    """Reading and changing the work calendar."""

    def calendar_year(self, year: int) -> CalendarYear:
        """The year as stored, or as its seed (not stored until a day is changed)."""
        check_year(year)
        found = self._get(CalendarYear.create_id(year))
        if isinstance(found, CalendarYear):
            return found
        source, days = seed(year)
        return CalendarYear.seed(year, source, days, Actor("minqing", Role.SYSTEM), self.clock())

    def mark_day(
        self,
        principal: Principal,
        day: date,
        kind: DayKind,
        name: str | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Make one day a holiday or a working day (admin)."""
        require_role(principal, Role.ADMIN, "changing the work calendar")
        check_year(day.year)
        if (replay := self._replay(idem)) is not None:
            return replay
        actor = Actor(principal.id, Role.ADMIN)

        def attempt() -> CommandResult | None:
            year = self.calendar_year(day.year)
            year.mark(day, kind, name, actor, self.clock())
            result = CommandResult(id=str(year.id), version=year.version, position=0)
            return self._save(year, [], result, idem, [])

        return self._until_saved(attempt, "the calendar kept changing; try again")

    def work_calendar(self, first: int, last: int | None = None) -> WorkCalendar:
        """The calendar of the years `first` to `last`, on which limits are counted."""
        days: dict[date, str] = {}
        for year in range(first, (last or first + 1) + 1):
            if FIRST_YEAR <= year <= LAST_YEAR:
                days.update(self.calendar_year(year).overrides())
        return WorkCalendar(self.zone, days, self.working_periods)

    def calendar_note(self, year: int) -> str | None:
        """Why a year is counted on weekdays alone, if it is."""
        if self.calendar_year(year).source == SEED_WEEKDAYS:
            return fallback_note(year)
        return None

    def calendar_view(self, year: int) -> dict[str, Any]:
        """One year as the API, the command line and the web UI show it."""
        stored = self.calendar_year(year)
        cal = self.work_calendar(year, year)
        first = date(year, 1, 1)
        total = (date(year + 1, 1, 1) - first).days
        working = sum(cal.is_workday(first + timedelta(n)) for n in range(total))
        return {
            "year": year,
            "source": stored.source,
            "note": self.calendar_note(year),
            "zone": str(self.zone),
            "working_periods": [
                {"start": a.strftime("%H:%M"), "end": b.strftime("%H:%M")}
                for a, b in self.working_periods
            ],
            "working_days": working,
            "holidays": total - working,
            "days": [
                {**e, "date": d, "weekday": date.fromisoformat(d).isoweekday()}
                for d, e in stored.as_dict().items()
            ],
            # A year only its seed describes has no events yet.
            "version": stored.version if stored.changes else 0,
        }
