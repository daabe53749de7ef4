"""The work calendar's arithmetic (domain/work_calendar.py) on the 2026 National Day week as
the State Council set it: 1–7 October off, Sunday 20 September and Saturday 10 October
worked (调休); and the calendar's year as events (marking a day, its seed, the fallback)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from application.holiday_seed import seed
from domain.calendar_year import SEED_OFFICIAL, SEED_WEEKDAYS
from domain.errors import Forbidden, Invalid
from domain.work_calendar import DayKind, Unit, WorkCalendar, parse_periods
from tests.unit.verbs_support import ADMIN, STAFF, open_office

ZONE = ZoneInfo("Asia/Shanghai")
HOLIDAY_WEEK = {date(2026, 10, d): "holiday" for d in range(1, 8)}
MAKE_UP = {date(2026, 9, 20): "workday", date(2026, 10, 10): "workday"}
CAL = WorkCalendar(ZONE, {**HOLIDAY_WEEK, **MAKE_UP})


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def test_weekends_holidays_and_make_up_days() -> None:
    assert CAL.is_workday(date(2026, 9, 30))  # Wednesday
    assert not CAL.is_workday(date(2026, 10, 5))  # Monday of the holiday week
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday worked
    assert CAL.is_workday(date(2026, 9, 20))  # Sunday worked
    assert not CAL.is_workday(date(2026, 10, 11))  # an ordinary Sunday


def test_working_hours_skip_the_lunch_break_and_the_night() -> None:
    # Wednesday 30 September, 11:00: one hour to lunch, two after it.
    assert CAL.deadline(at(9, 30, 11), 3, Unit.WORKING_HOURS) == at(9, 30, 16)
    # Started during lunch, the clock starts at 14:00.
    assert CAL.deadline(at(9, 30, 12, 30), 1, Unit.WORKING_HOURS) == at(9, 30, 15)
    assert CAL.working_time(at(9, 30, 11), at(9, 30, 15)) == timedelta(hours=2)
    # After 18:00 the rest waits for the next working morning.
    assert CAL.deadline(at(9, 29, 17), 2, Unit.WORKING_HOURS) == at(9, 30, 9)


def test_working_hours_skip_the_holiday_week_and_use_the_make_up_saturday() -> None:
    # Wednesday 30 September 16:00 plus 4 working hours: 2 that day, 2 after the holiday week.
    assert CAL.deadline(at(9, 30, 16), 4, Unit.WORKING_HOURS) == at(10, 8, 10)
    # Friday 9 October 16:00 plus 4: Saturday the 10th is worked.
    assert CAL.deadline(at(10, 9, 16), 4, Unit.WORKING_HOURS) == at(10, 10, 10)
    # Without the make-up day, Monday 12 October.
    plain = WorkCalendar(ZONE, HOLIDAY_WEEK)
    assert plain.deadline(at(10, 9, 16), 4, Unit.WORKING_HOURS) == at(10, 12, 10)


def test_working_days_are_days_of_working_time() -> None:
    # Friday 25 September 10:00 + 1 working day: Monday 28 September 10:00.
    assert CAL.deadline(at(9, 25, 10), 1, Unit.WORKING_DAYS) == at(9, 28, 10)
    # Tuesday 29 September 10:00 + 2 working days: over the holiday week to 8 October.
    assert CAL.deadline(at(9, 29, 10), 2, Unit.WORKING_DAYS) == at(10, 8, 10)
    # Friday 9 October + 1: the make-up Saturday.
    assert CAL.deadline(at(10, 9, 10), 1, Unit.WORKING_DAYS) == at(10, 10, 10)
    assert CAL.used(at(9, 29, 10), at(10, 8, 10), Unit.WORKING_DAYS) == pytest.approx(2)


def test_natural_days_and_urgent_hours_run_through_holidays() -> None:
    assert CAL.deadline(at(9, 30, 16), 3, Unit.NATURAL_DAYS) == at(10, 3, 16)
    assert CAL.deadline(at(10, 1, 23), 2, Unit.URGENT_HOURS) == at(10, 2, 1)
    assert CAL.used(at(10, 1), at(10, 1, 12), Unit.NATURAL_DAYS) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("now", "percent"),
    [
        (at(9, 29, 17, 54), 79),  # 7.9 of 10 working hours
        (at(9, 29, 18), 80),
        (at(9, 30, 10), 100),
        # Past it: 8 + 4 hours, the lunch break, 1 more: 13 of 10.
        (at(9, 30, 15), 130),
    ],
)
def test_used_percent(now: datetime, percent: int) -> None:
    # Tuesday 29 September 08:00 + 10 working hours: 8 that day, 2 on the 30th, until 10:00.
    start = at(9, 29, 8)
    deadline = CAL.deadline(start, 10, Unit.WORKING_HOURS)
    assert deadline == at(9, 30, 10)
    assert CAL.used_percent(start, now, deadline, Unit.WORKING_HOURS) == percent


def test_seed_from_the_official_table_and_the_fallback() -> None:
    source, days = seed(2026)
    assert source == SEED_OFFICIAL
    assert days["2026-10-05"] == {"kind": "holiday", "name": "国庆节"}
    assert days["2026-10-10"] == {"kind": "workday", "name": "国庆节调休"}
    assert seed(2099) == (SEED_WEEKDAYS, {})


def test_marking_a_day_is_an_event_and_changes_the_limits() -> None:
    office = open_office()
    app = office.app
    assert app.calendar_note(2026) is None
    assert app.calendar_note(2099) is not None
    before = app.work_calendar(2026)
    assert before.is_workday(date(2026, 12, 31))
    app.mark_day(ADMIN, date(2026, 12, 31), DayKind.HOLIDAY, "社区活动日")
    year = app.calendar_year(2026)
    assert year.version == 2
    assert year.days["2026-12-31"] == {"kind": "holiday", "name": "社区活动日"}
    assert not app.work_calendar(2026).is_workday(date(2026, 12, 31))
    # The seed stays: the holiday week is still off.
    assert not app.work_calendar(2026).is_workday(date(2026, 10, 5))
    app.mark_day(ADMIN, date(2026, 12, 31), DayKind.WORKDAY, None)
    assert app.work_calendar(2026).is_workday(date(2026, 12, 31))
    assert app.calendar_year(2026).version == 3


def test_marking_needs_an_admin_and_a_sane_day() -> None:
    app = open_office().app
    with pytest.raises(Forbidden):
        app.mark_day(STAFF, date(2026, 12, 31), DayKind.HOLIDAY)
    with pytest.raises(Invalid):
        app.mark_day(ADMIN, date(2026, 12, 31), DayKind.HOLIDAY, "x" * 101)
    with pytest.raises(Invalid):
        app.calendar_year(1066)


def test_working_periods_are_a_setting() -> None:
    assert parse_periods("08:00-12:00, 14:00-18:00") == (
        (time(8), time(12)),
        (time(14), time(18)),
    )
    for bad in ("8-12", "12:00-08:00", "08:00-12:00,11:00-15:00", "08:00"):
        with pytest.raises(ValueError, match=r"08:00-12:00|ends before|starts before"):
            parse_periods(bad)
    # An office working 09:00-17:00 without a lunch break: three working hours from 15:00
    # end at 10:00 the next working day, and its working day is eight hours.
    office = open_office(working_periods=parse_periods("09:00-17:00"))
    cal = office.app.work_calendar(2026)
    assert cal.deadline(at(9, 29, 15), 3, Unit.WORKING_HOURS) == at(9, 30, 10)
    assert cal.deadline(at(9, 30, 12, 30), 1, Unit.WORKING_HOURS) == at(9, 30, 13, 30)
    view = office.app.calendar_view(2026)
    assert view["working_periods"] == [{"start": "09:00", "end": "17:00"}]
