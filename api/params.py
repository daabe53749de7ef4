"""Query and path parameters: the text policy for every one of every route, checked once,
as an application-wide dependency (api/main.py), so a route added later cannot forget it;
and the parameters the read endpoints share (cursors, limits, `min_position`, date ranges
and grids of the ledger and visits)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from starlette.datastructures import QueryParams

from api.dates import check_day
from domain import text
from domain.errors import Invalid
from domain.permissions import check_grid
from domain.principal import Principal
from projections.concerns import MAX_LIMIT
from projections.ledger import Selection, month_bounds

# Open311's routes read their parameters themselves and answer refusals in the GeoReport
# format (api/routes/open311.py applies the same policy there).
OWN_CHECKS = ("/open311/",)


async def checked_params(request: Request) -> None:
    """Refuse (422 naming the parameter) a query or path parameter the single-line text
    policy refuses; hand the route every value normalised to NFC."""
    if request.url.path.startswith(OWN_CHECKS):
        return
    problems: list[tuple[str, str]] = []
    path_params = request.scope.get("path_params", {})
    for name, value in path_params.items():
        if isinstance(value, str):
            try:
                path_params[name] = text.check_single_line(value)
            except text.TextRefused as refused:
                problems.append((name, str(refused)))
    items = request.query_params.multi_items()
    normalised: list[tuple[str, str]] = []
    for name, value in items:
        try:
            normalised.append((name, text.check_single_line(value)))
        except text.TextRefused as refused:
            problems.append((name, str(refused)))
    if problems:
        raise Invalid(problems)
    if normalised != items:
        # The route reads its parameters from this request after this dependency has run.
        request.scope["query_string"] = urlencode(normalised).encode()
        request._query_params = QueryParams(normalised)


# -- query parameters the read endpoints share -------------------------------------------------

MinPosition = Annotated[
    int | None,
    Query(ge=0, description="wait (up to 2 s) until the list includes this log position"),
]
CursorParam = Annotated[str | None, Query(max_length=1000, description="next_cursor of a page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
DateText = Annotated[
    str | None,
    Query(max_length=10, description="YYYY-MM-DD (or YYYY-MM: the whole month), included"),
]
From = Annotated[
    str | None,
    Query(alias="from", max_length=10, description="YYYY-MM-DD or YYYY-MM, included"),
]
Grids = Annotated[list[str] | None, Query(description="only these grids (within your scope)")]


def parse_day(text: str | None, field: str, *, last: bool) -> date | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    if len(text) == 7:
        first, final = month_bounds(text, field)
        check_day(first, field)
        return final if last else first
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid([(field, "must be a date as YYYY-MM-DD (or a month as YYYY-MM)")]) from None
    return check_day(day, field)


def selection(
    principal: Principal, start: str | None, end: str | None, grids: list[str] | None
) -> Selection:
    """The rows a caller may read: the date range (both ends included) and grids, within
    the caller's grid scope (asking for a grid outside it is refused)."""
    first = parse_day(start, "from", last=False)
    final = parse_day(end, "to", last=True)
    if first and final and final < first:
        raise Invalid([("to", f"must not be before from ({first.isoformat()})")])
    for g in grids or []:
        check_grid(principal, g)
    return Selection(first, final, grids or [], principal.grids)
