"""What the work calendar and time-limit endpoints answer, as OpenAPI schemas (the routes
send their own data; these document it)."""

from __future__ import annotations

from pydantic import BaseModel


class CalendarDay(BaseModel):
    """A day whose kind the weekday rule alone would not give, or that carries a name."""

    date: str
    kind: str  # holiday | workday
    name: str
    weekday: int  # ISO: 1 Monday … 7 Sunday


class WorkingPeriod(BaseModel):
    start: str
    end: str


class CalendarOut(BaseModel):
    """One year of the work calendar."""

    year: int
    source: str  # chinese-calendar | weekdays
    note: str | None  # said when the year falls back to weekdays alone
    zone: str
    working_periods: list[WorkingPeriod]
    working_days: int
    holidays: int
    days: list[CalendarDay]
    version: int  # 0 until an admin changes a day of the year


class CalendarDayOut(BaseModel):
    """A day after an admin marked it."""

    date: str
    kind: str
    name: str
    version: int
    position: int
