"""Every request identified, measured and logged: its X-Request-ID (the caller's when it is
sane, else a new one; returned on the response and written beside the events it recorded,
application/requests.py), its duration by method, route template and status and a command's
outcome by type (adapters/instruments.py), and one JSON log line (adapters/json_logs.py). Pure ASGI,
so streamed responses stream on; the route is read after routing, as a template
(`/api/v1/concerns/{concern_ref}`), so a concern's reference or a tracking code never
becomes a label or reaches the log."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import instruments
from application.requests import CURRENT, RequestContext, valid_request_id

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A path no route matched: one label for them all, so scanners cannot grow the series.
UNMATCHED = "<unmatched>"
HEADER = "X-Request-ID"
# Where the request's context stays in its scope after this middleware has let go of it:
# Starlette's outermost ServerErrorMiddleware answers an unhandled error outside it, and
# that answer and its log line need the same id (api/errors.py).
SCOPE_KEY = "minqing.request"
log = logging.getLogger("minqing.request")


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
        context = RequestContext(request_id(scope))
        scope[SCOPE_KEY] = context
        token = CURRENT.set(context)

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = context.request_id
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - started
            record(scope, status, seconds)
            write_line(scope, context, status, seconds)
            CURRENT.reset(token)


def request_id(scope: Scope) -> str:
    """The caller's X-Request-ID if it is sane (letters, digits, `._:=+-`, at most 128),
    else a new one: a bad one is replaced, not refused, so the request still has an id."""
    given = Headers(scope=scope).get(HEADER)
    return given if given is not None and valid_request_id(given) else uuid.uuid4().hex


def context_of(scope: Scope) -> RequestContext:
    """The request's context as Observe made it; for a request that failed before reaching
    Observe (in a middleware outside it), a new one by the same rule."""
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, RequestContext) else RequestContext(request_id(scope))


def write_line(scope: Scope, context: RequestContext, status: int, seconds: float) -> None:
    """The request's one log line: who, which route, what status, how long; never the path,
    the query string or the client's address."""
    method = str(scope.get("method", ""))
    route = template(route_of(scope))
    log.info(
        "%s %s %d",
        method,
        route,
        status,
        extra={
            "request_id": context.request_id,
            "principal_id": context.principal_id,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


def record(scope: Scope, status: int, seconds: float) -> None:
    """Count one answered request (and command) in this process's instruments."""
    route = route_of(scope)
    method = str(scope.get("method", ""))
    instruments.HTTP_REQUEST_SECONDS.labels(method, template(route), str(status)).observe(seconds)
    name = getattr(route, "name", None)
    if method in COMMAND_METHODS and isinstance(name, str):
        instruments.COMMANDS.labels(name, instruments.command_outcome(status)).inc()
    instruments.refresh_process_metrics()
