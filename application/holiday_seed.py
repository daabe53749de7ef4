"""The seed of a work calendar year: the official holidays and make-up working days (调休)
from the `chinese-calendar` package, or the weekdays alone where it has no data."""

from __future__ import annotations

from datetime import date

import chinese_calendar

from domain.calendar_year import SEED_OFFICIAL, SEED_WEEKDAYS
from domain.work_calendar import DayKind, weekday_kind

# The package names holidays in English; the calendar shows the names people use.
_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def has_official(year: int) -> bool:
    """True when the package knows the year's holidays."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def seed(year: int) -> tuple[str, dict[str, dict[str, str]]]:
    """The year's source and its days that the weekday rule does not give."""
    if not has_official(year):
        return SEED_WEEKDAYS, {}
    days: dict[str, dict[str, str]] = {}
    tables = (
        (chinese_calendar.holidays, DayKind.HOLIDAY, ""),
        (chinese_calendar.workdays, DayKind.WORKDAY, "调休"),
    )
    for table, kind, suffix in tables:
        for day, name in table.items():
            if day.year != year:
                continue
            text = _NAMES.get(str(name), str(name))
            # A weekend holiday is the weekday rule's too; it is kept for its name.
            if kind.value != weekday_kind(day) or kind == DayKind.HOLIDAY:
                days[day.isoformat()] = {"kind": kind.value, "name": text + suffix}
    return SEED_OFFICIAL, days


def english_name(name: str) -> str:
    """A seeded day's name in English (a name an admin typed stays as typed)."""
    english = {zh: en for en, zh in _NAMES.items()}
    if name.endswith("调休") and name[: -len("调休")] in english:
        return f"{english[name[: -len('调休')]]} (make-up working day)"
    return english.get(name, name)
