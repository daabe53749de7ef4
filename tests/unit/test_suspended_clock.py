"""The stage clock with a suspension (挂账), over random histories (hypothesis): whatever
the unit, the start, the suspension and the moment read, the time suspended is not used,
the used percent does not move while suspended, and the deadline read while suspended
leaves exactly the limit's time from the start, the suspended time left out. A National Day
week (holidays) and a make-up Saturday are in the calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.time_limits import Stage, StageClock, Thresholds
from domain.work_calendar import Unit, WorkCalendar

ZONE = ZoneInfo("Asia/Shanghai")
HOLIDAYS = {date(2026, 10, d): "holiday" for d in range(1, 8)}
CALENDAR = WorkCalendar(ZONE, {**HOLIDAYS, date(2026, 10, 10): "workday"})
ORIGIN = datetime(2026, 9, 21, 0, 0, tzinfo=ZONE)  # a Monday, two weeks before the holiday

minutes = st.integers(min_value=0, max_value=30 * 24 * 60)
units = st.sampled_from(list(Unit))


def moment(offset: int) -> datetime:
    return ORIGIN + timedelta(minutes=offset)


@settings(max_examples=200, deadline=None)
@given(units, st.integers(1, 10), minutes, minutes, minutes, minutes)
def test_suspended_time_is_not_used(
    unit: Unit, amount: int, start: int, wait: int, held: int, after: int
) -> None:
    started = moment(start)
    since = started + timedelta(minutes=wait)
    ended = since + timedelta(minutes=held)
    deadline = CALENDAR.deadline(started, amount, unit)
    ongoing = StageClock(Stage.HANDLING, started, deadline, unit, ((since, None),))
    # While suspended, from its start to any later moment: the same used percent, and a
    # deadline that leaves the whole limit once the suspended time is left out.
    at_start = ongoing.used_percent(CALENDAR, since)
    assert ongoing.used_percent(CALENDAR, ended) == at_start
    moved, used, limit = ongoing.measure(CALENDAR, ended)
    assert moved >= deadline
    assert abs(limit - amount) < 1e-6
    assert abs(used - CALENDAR.used(started, since, unit)) < 1e-6
    view = ongoing.as_dict(CALENDAR, ended, Thresholds())
    assert view["suspended"] is True
    assert view["used_percent"] == at_start
    # Ended (the table's deadline not moved by anyone): the time used later is the
    # calendar's less the time suspended.
    done = StageClock(Stage.TRIAGE, started, deadline, unit, ((since, ended),))
    later = ended + timedelta(minutes=after)
    _, used_later, limit_later = done.measure(CALENDAR, later)
    suspended = CALENDAR.used(since, ended, unit)
    assert abs(used_later - (CALENDAR.used(started, later, unit) - suspended)) < 1e-6
    assert abs(limit_later - amount) < 1e-6
    assert done.as_dict(CALENDAR, later, Thresholds())["suspended"] is False
