"""Every request measured: its duration by method, route template and status, and a
command's outcome by type (adapters/instruments.py). Pure ASGI, so streamed responses stream
on; the route is read after routing, as a template (`/api/v1/concerns/{concern_ref}`), so a
concern's reference or a tracking code never becomes a label."""

from __future__ import annotations

import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import instruments

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A path no route matched: one label for them all, so scanners cannot grow the series.
UNMATCHED = "<unmatched>"


def route_of(scope: Scope) -> BaseRoute | None:
    """The route the router chose for this request (None when none matched)."""
    route = scope.get("route")
    return route if isinstance(route, BaseRoute) else None


def template(route: BaseRoute | None) -> str:
    """The route's path template (a mount's prefix), or UNMATCHED."""
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class Observe:
    """Measures each HTTP request once it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; record its duration, status and, for a command, outcome."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            record(scope, status, time.perf_counter() - started)


def record(scope: Scope, status: int, seconds: float) -> None:
    """Count one answered request (and command) in this process's instruments."""
    route = route_of(scope)
    method = str(scope.get("method", ""))
    instruments.HTTP_REQUEST_SECONDS.labels(method, template(route), str(status)).observe(seconds)
    name = getattr(route, "name", None)
    if method in COMMAND_METHODS and isinstance(name, str):
        instruments.COMMANDS.labels(name, instruments.command_outcome(status)).inc()
    instruments.refresh_process_metrics()
