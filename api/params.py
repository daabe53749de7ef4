"""The text policy for every query and path parameter of every route, checked once, as an
application-wide dependency (api/main.py), so a route added later cannot forget it."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.datastructures import QueryParams

from domain import text
from domain.errors import Invalid

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
