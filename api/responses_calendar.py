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


class LimitRow(BaseModel):
    """One row of the time limits table: a stage's limit for a category, library and
    handling mode (null: any); the most specific matching row wins."""

    stage: str  # triage | committee | handling | feedback
    amount: float
    unit: str  # natural_days | working_days | working_hours | urgent_hours
    category: str | None = None
    library: str | None = None
    mode: str | None = None  # handle_now | committee | meeting


class ThresholdsOut(BaseModel):
    yellow: int  # percent of the limit used from which a stage is yellow
    red: int  # percent past which it is red


class TimeLimitsOut(BaseModel):
    """The time limits table in force."""

    limits: list[LimitRow]
    thresholds: ThresholdsOut
    version: int  # 0 while the defaults stand
    position: int | None = None
