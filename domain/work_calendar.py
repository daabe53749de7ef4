"""The work calendar's arithmetic: which days are worked, and time limits counted on them.

Pure functions of a calendar (weekends, plus holidays and make-up working days, 调休) and a
clock in the community's zone. Four units:

- natural days (自然日) and urgent hours (紧急时限): a continuous clock;
- working hours (工作时): only the working periods (default 08:00–12:00, 14:00–18:00) of
  working days count, so the lunch break, nights, weekends and holidays do not;
- working days (工作日): a working day is one working day's length of working time (8 hours
  by default), so a one-working-day limit started on Friday at 10:00 ends on Monday at 10:00.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from domain.vocabulary import Labelled

# Far enough for any limit (a year of suspension on top); the walk stops there.
MAX_DAYS = 3 * 366


class DayKind(Labelled):
    HOLIDAY = ("holiday", "节假日", "Holiday")
    WORKDAY = ("workday", "工作日", "Working day")


class Unit(Labelled):
    NATURAL_DAYS = ("natural_days", "自然日", "Natural days")
    WORKING_DAYS = ("working_days", "工作日", "Working days")
    WORKING_HOURS = ("working_hours", "工作时", "Working hours")
    URGENT_HOURS = ("urgent_hours", "紧急小时", "Urgent hours (continuous clock)")


Period = tuple[time, time]
WORKING_PERIODS: tuple[Period, ...] = ((time(8), time(12)), (time(14), time(18)))


def parse_periods(text: str) -> tuple[Period, ...]:
    """Working periods from `08:00-12:00,14:00-18:00`: each start before its end, in order,
    none overlapping the next; ValueError says what is wrong."""
    periods: list[Period] = []
    for part in text.split(","):
        start, _, end = part.strip().partition("-")
        try:
            a, b = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not a period like 08:00-12:00") from None
        if not a < b:
            raise ValueError(f"{part.strip()!r} ends before it starts")
        if periods and a < periods[-1][1]:
            raise ValueError(f"{part.strip()!r} starts before the period before it ends")
        periods.append((a, b))
    return tuple(periods)


@dataclass(frozen=True)
class WorkCalendar:
    """Weekends plus explicit holidays and make-up working days, in one zone."""

    zone: tzinfo
    # An explicit day overrides the weekday rule: "holiday" or "workday".
    days: Mapping[date, str] = field(default_factory=dict)
    periods: Sequence[Period] = WORKING_PERIODS

    def is_workday(self, day: date) -> bool:
        """A working day: the explicit entry if there is one, else Monday to Friday."""
        kind = self.days.get(day)
        if kind is not None:
            return kind == DayKind.WORKDAY.value
        return day.weekday() < 5

    @property
    def day_length(self) -> timedelta:
        """The working time of one working day (8 hours by default)."""
        return sum((_span(a, b) for a, b in self.periods), timedelta())

    def _windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(day):
            return []
        return [
            (datetime.combine(day, a, self.zone), datetime.combine(day, b, self.zone))
            for a, b in self.periods
        ]

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """The working time between two moments (zero if `end` is not after `start`)."""
        if end <= start:
            return timedelta()
        total = timedelta()
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for a, b in self._windows(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time after `start`."""
        left = amount
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for a, b in self._windows(day):
                lo = max(a, start)
                if b <= lo:
                    continue
                if b - lo >= left:
                    return lo + left
                left -= b - lo
            day += timedelta(days=1)
        msg = f"no {amount} of working time within {MAX_DAYS} days of {start}"
        raise ValueError(msg)

    def deadline(self, start: datetime, amount: float, unit: Unit) -> datetime:
        """The moment a limit of `amount` `unit`s started at `start` runs out."""
        if unit == Unit.NATURAL_DAYS:
            return start + timedelta(days=amount)
        if unit == Unit.URGENT_HOURS:
            return start + timedelta(hours=amount)
        if unit == Unit.WORKING_HOURS:
            return self.add_working_time(start, timedelta(hours=amount))
        return self.add_working_time(start, self.day_length * amount)

    def used(self, start: datetime, now: datetime, unit: Unit) -> float:
        """How much of `unit` has been used between `start` and `now`."""
        if now <= start:
            return 0.0
        if unit == Unit.NATURAL_DAYS:
            return (now - start) / timedelta(days=1)
        if unit == Unit.URGENT_HOURS:
            return (now - start) / timedelta(hours=1)
        worked = self.working_time(start, now)
        if unit == Unit.WORKING_HOURS:
            return worked / timedelta(hours=1)
        return worked / self.day_length

    def used_percent(self, start: datetime, now: datetime, deadline: datetime, unit: Unit) -> int:
        """The share of the limit from `start` to `deadline` used by `now`, in whole percent
        (rounded down, so 79.9 % is still 79); 100 once the deadline has passed, if the
        limit holds no time of its unit."""
        limit = self.used(start, deadline, unit)
        if limit <= 0:
            return 100 if now >= deadline else 0
        return int(self.used(start, now, unit) / limit * 100 + 1e-9)


def _span(a: time, b: time) -> timedelta:
    return datetime.combine(date.min, b) - datetime.combine(date.min, a)


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The end of a due date (the next midnight): work done on the day is on time."""
    return datetime.combine(day + timedelta(days=1), time(), zone)


def weekday_kind(day: date) -> str:
    """What the weekday rule alone makes of a day."""
    return DayKind.WORKDAY.value if day.weekday() < 5 else DayKind.HOLIDAY.value
