"""The work calendar (工作日历) at /ui/calendar: a year's holidays and make-up working days,
the note when a year is counted on weekdays alone, and for admins a form to mark a day."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.schemas import Body, OptionalName
from api.ui.forms import Errors, errors_of, parse, payload
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import PostedDep, SessionDep, UiRoute, form_address, minqing, need, redirect
from application.calendars import FIRST_YEAR, LAST_YEAR
from application.holiday_seed import english_name
from domain.errors import DomainError, Invalid
from domain.vocabulary import STAFF_ROLES, Role
from domain.work_calendar import DayKind

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
VIEWERS = (*STAFF_ROLES, Role.SUPERVISOR)


class DayForm(Body):
    """The page's form: the API's body (CalendarDayIn) under names the page's labels know."""

    day_kind: Literal["holiday", "workday"]
    day_name: OptionalName | None = None


def _year(raw: str, default: int) -> int:
    text = raw.strip()
    if not text:
        return default
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise Invalid([("year", f"must be between {FIRST_YEAR} and {LAST_YEAR}")])
    return int(text)


def _page(
    request: Request,
    session: UiSession,
    year: int,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    app = minqing(request)
    cal = app.calendar_view(year)
    if lang_of(request) == "en":
        cal["days"] = [{**d, "name": english_name(d["name"])} for d in cal["days"]]
    context: dict[str, Any] = {
        "cal": cal,
        "may_mark": Role.ADMIN in session.principal.roles,
        "errors": errors,
        "values": values or {},
        "kinds": [k.value for k in DayKind],
    }
    return render(
        request,
        "calendar.html",
        context,
        session=session,
        status=errors.status if errors else 200,
        here=f"/ui/calendar?year={year}",
    )


@router.get("/calendar")
def calendar_page(
    request: Request,
    session: SessionDep,
    year: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """A year of the work calendar (staff roles, supervisors)."""
    need(session, *VIEWERS)
    app = minqing(request)
    try:
        chosen = _year(year, app.clock().year)
    except Invalid as exc:
        return _page(request, session, app.clock().year, errors_of(exc, lang_of(request)))
    return _page(request, session, chosen)


@router.post("/calendar/{year}/days")
def mark_day(request: Request, year: int, posted: PostedDep) -> Response:
    """Make a day a holiday or a working day (admin)."""
    session, form = posted.session, posted.form
    need(session, Role.ADMIN)
    app = minqing(request)
    values = form.flat()
    try:
        chosen = _year(str(year), app.clock().year)
        day = _day(form.get("day"), chosen)
        body = parse(DayForm, payload(form, DayForm))
        app.mark_day(session.principal, day, DayKind(body.day_kind), body.day_name)
    except DomainError as exc:
        shown = year if FIRST_YEAR <= year <= LAST_YEAR else app.clock().year
        return _page(request, session, shown, errors_of(exc, lang_of(request)), values)
    return redirect(f"/ui/calendar?year={chosen}", done="calendar_marked")


def _calendar_address(request: Request, session: UiSession) -> str:
    need(session, *VIEWERS)
    return "/ui/calendar?" + urlencode({"year": request.path_params["year"]})


# A refused mark shows the calendar at the form's address: GET there goes to the calendar.
form_address(router, "/calendar/{year}/days", _calendar_address)


def _day(raw: str, year: int) -> date:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid([("day", "Input should be a valid date")]) from None
    if day.year != year:
        raise Invalid([("day", f"must be a day of {year}")])
    return day
