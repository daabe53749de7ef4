"""The work calendar: /api/v1/calendar (holidays and make-up working days per year)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.dates import Day
from api.deps import IdempotencyDep, MinqingDep, require
from api.openapi import answers, errors
from api.responses_calendar import CalendarDayOut, CalendarOut
from api.schemas import CalendarDayIn
from application.calendars import FIRST_YEAR, LAST_YEAR
from domain.errors import Invalid
from domain.principal import Principal
from domain.vocabulary import STAFF_ROLES, Role
from domain.work_calendar import DayKind

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"], responses=errors(401, 403, 503))
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="the calendar year")]


@router.get("/{year}", **answers(CalendarOut, 404, 422))
def get_calendar(
    year: Year,
    app: MinqingDep,
    principal: Annotated[Principal, require(*STAFF_ROLES, Role.SUPERVISOR)],
) -> dict[str, Any]:
    """One year of the work calendar: its holidays and make-up working days, the working
    periods, and a note when the year is counted on weekdays alone."""
    return app.calendar_view(year)


@router.put("/{year}/days/{day}", **answers(CalendarDayOut, 404, 422))
def put_day(
    year: Year,
    day: Annotated[Day, Path(description="the day, YYYY-MM-DD")],
    body: CalendarDayIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.ADMIN)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Make one day a holiday or a working day (admin); recorded as an event."""
    if day.year != year:
        raise Invalid([("day", f"must be a day of {year}")])
    result = app.mark_day(principal, day, DayKind(body.kind), body.name, idem)
    entry = app.calendar_year(year).days.get(day.isoformat())
    return {
        "date": day.isoformat(),
        "kind": entry["kind"] if entry else body.kind,
        "name": entry["name"] if entry else "",
        "version": result.version,
        "position": result.position,
    }
