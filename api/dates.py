"""Date windows: every date and time the API takes lies in a sane span, or is refused (422
naming the field), before any arithmetic on it can overflow.

| type | fields | earliest | latest |
| --- | --- | --- | --- |
| `Day` | `due_on`; query dates `from`, `to` and the ledger's `month` | 2000-01-01 | today + 10 y |
| `Moment` | `scheduled_for`; `as_of`; Open311 `start_date`, `end_date` | 2000-01-01 | today+10 y |
| `VisitDay` | `visited_on` | 2000-01-01 | today + 1 day |

"Today" is the wall clock's UTC date: the window keeps dates within what the service can
compute with (a time zone added, days added, a month's last day), and one day's slack keeps
a visit recorded just after midnight in the community's zone inside. The business rules
(a due date not in the past, a visit not in the future) stay the domain's, on the
application's clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from domain.errors import Invalid

EARLIEST = date(2000, 1, 1)
AHEAD = timedelta(days=3653)  # ten years
VISIT_AHEAD = timedelta(days=1)


def latest(ahead: timedelta = AHEAD) -> date:
    """The last day the window allows."""
    return datetime.now(UTC).date() + ahead


def outside(day: date, ahead: timedelta = AHEAD) -> str | None:
    """Why `day` lies outside the window (None: it lies inside)."""
    last = latest(ahead)
    if EARLIEST <= day <= last:
        return None
    return f"must be between {EARLIEST.isoformat()} and {last.isoformat()}"


def check_day(day: date, field: str, ahead: timedelta = AHEAD) -> date:
    """`day`, or Invalid naming `field` when it lies outside the window."""
    problem = outside(day, ahead)
    if problem:
        raise Invalid([(field, problem)])
    return day


def _window(ahead: timedelta) -> AfterValidator:
    def check(value: date) -> date:
        # A datetime's own calendar day, before any time zone is applied to it.
        day = value.date() if isinstance(value, datetime) else value
        problem = outside(day, ahead)
        if problem:
            raise PydanticCustomError("date_window", problem)
        return value

    return AfterValidator(check)


Day = Annotated[date, _window(AHEAD)]
Moment = Annotated[datetime, _window(AHEAD)]
VisitDay = Annotated[date, _window(VISIT_AHEAD)]
