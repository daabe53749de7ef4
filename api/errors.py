"""Every error leaves the API as `{"error", "message", …details}`: the mapping lives here.

Besides the domain's refusals: a database that is down or restarting answers 503 with
Retry-After, and anything else unexpected 500, both in the same JSON (the web UI's pages
answer an HTML page instead, Open311's paths the spec's error list).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from adapters.availability import DATABASE_ERRORS, transient
from api import observe, open311_format
from application.requests import CURRENT
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TransitionNotAllowed,
    VersionMismatch,
)
from domain.photos import TooLarge
from domain.unreadable import UnreadableEvent


class Unauthenticated(Exception):
    """No bearer token, or one that is unknown or revoked."""


class RateLimited(Exception):
    """Too many requests from one client; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


class BodyTooLarge(HTTPException):
    """The request body is larger than the configured limit (api/limits.py)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyNotJson(HTTPException):
    """A JSON body that is not UTF-8 or nests too deeply to be parsed safely."""

    def __init__(self, message: str) -> None:
        super().__init__(422, message)


log = logging.getLogger("minqing.api")
# A restarting PostgreSQL is back within seconds; a client may try again after this long.
RETRY_AFTER_SECONDS = 5
_UNAVAILABLE = "the database is unavailable (down or restarting); try again shortly"
_INTERNAL = "an unexpected error occurred; it has been logged"


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The one shape of every error body."""
    return {"error": code, "message": message, **details}


def _domain(exc: DomainError) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, NotFound):
        return 404, error_body("not_found", str(exc))
    if isinstance(exc, Forbidden):
        return 403, error_body("forbidden", str(exc))
    if isinstance(exc, TransitionNotAllowed):
        return 409, error_body(
            "transition_not_allowed",
            str(exc),
            status=exc.status.value,
            action=exc.action.value,
            allowed_actions=[a.value for a in exc.allowed],
        )
    if isinstance(exc, VersionMismatch):
        return 412, error_body("version_mismatch", str(exc), current_version=exc.current)
    if isinstance(exc, Conflict):
        return 409, error_body("conflict", str(exc), rule=exc.rule, **exc.details)
    if isinstance(exc, Invalid):
        fields = [{"field": f, "message": m} for f, m in exc.fields]
        return 422, error_body("invalid", str(exc), fields=fields)
    if isinstance(exc, TooLarge):
        message = str(exc).partition(": ")[2]
        fields = [{"field": exc.field, "message": message}]
        return 413, error_body("too_large", str(exc), fields=fields, limit=exc.limit)
    return 400, error_body("invalid", str(exc))


def _field(error: dict[str, Any]) -> str:
    # ("body", "resident", "phone") -> "resident.phone"; ("query", "limit") -> "limit"; a
    # body that does not parse is the body's fault as a whole (its loc is a byte offset).
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        return "body"
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or "body"


_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "invalid",
    409: "conflict",
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
}


def _open311(path: str) -> bool:
    return path.startswith("/open311/")


def _html_page(path: str) -> bool:
    return path == "/ui" or (path.startswith("/ui/") and not path.startswith("/ui/static/"))


def answer(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **details: Any,
) -> Response:
    """The error response in the format of the path: Open311's error list under
    /open311/, the contract's JSON everywhere else."""
    if _open311(request.url.path):
        # Open311's one error format, shared with its routes.
        response = open311_format.error(
            "xml" if request.url.path.endswith(".xml") else "json", status, message
        )
        response.headers.update(headers or {})
        return response
    return JSONResponse(
        error_body(code, message, **details), status_code=status, headers=dict(headers or {})
    )


def _page_or_answer(
    request: Request, status: int, key: str, code: str, message: str, headers: dict[str, str]
) -> Response:
    """A page of the web UI answers its failure as an HTML page; everything else as JSON."""
    if _html_page(request.url.path):
        try:
            from api.ui.render import render  # the UI imports this module

            # No session lookup: the database may be the thing that failed.
            page = render(request, "error.html", {"key": key, "detail": None}, status=status)
            page.headers.update(headers)
            return page
        except Exception:  # the page itself failed: the JSON answer still goes out
            log.exception("the error page could not be rendered")
    return answer(request, status, code, message, headers)


def unexpected(request: Request, exc: Exception) -> Response:
    """503 when the database is down or restarting, else 500; never text/plain."""
    where = f"{request.method} {request.url.path}"
    if transient(exc):  # the database is down, restarting or locked (adapters/availability)
        log.warning("%s: database unavailable: %s: %s", where, type(exc).__name__, exc)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return _page_or_answer(
            request, 503, "error.unavailable", "unavailable", _UNAVAILABLE, retry
        )
    log.error("%s: unhandled %s", where, type(exc).__name__, exc_info=exc)
    return _page_or_answer(request, 500, "error.internal", "internal", _INTERNAL, {})


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into the contract's error bodies."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status, body = _domain(exc)
        return JSONResponse(body, status_code=status)

    @app.exception_handler(UnreadableEvent)
    async def unreadable_event(_: Request, exc: UnreadableEvent) -> JSONResponse:
        # A stored event's bytes changed: the state cannot be built; say which event.
        body = error_body("unreadable_event", str(exc), position=exc.position)
        return JSONResponse(body, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": _field(e), "message": e.get("msg", "invalid")} for e in exc.errors()]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return JSONResponse(error_body("invalid", message, fields=fields), status_code=422)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(_: Request, exc: Unauthenticated) -> JSONResponse:
        return JSONResponse(
            error_body("unauthenticated", str(exc)),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(
            error_body("rate_limited", str(exc)),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return refusal(request, exc)

    # The database's failures: answered here (503, or 500 if not an outage) rather than
    # by the catch-all below, which would also re-raise them into the server's log.
    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _unexpected)
    # Anything else, wherever raised (a route, a dependency, a middleware, a page): Starlette
    # gives this handler to its outermost ServerErrorMiddleware instead of its text/plain
    # "Internal Server Error"; that middleware re-raises afterwards, so the server logs it.
    app.add_exception_handler(Exception, _server_error)


def refusal(request: Request, exc: HTTPException) -> Response:
    """An HTTPException (Starlette's 404 and 405, a body over the limit …) as an error."""
    code = _HTTP_CODES.get(exc.status_code, "invalid" if exc.status_code < 500 else "internal")
    fields = [{"field": "body", "message": exc.detail}] if isinstance(exc, BodyNotJson) else None
    details = {"fields": fields} if fields else {}
    return answer(request, exc.status_code, code, str(exc.detail), exc.headers, **details)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Async, so Starlette calls it on the loop: it reads no database, renders at most a page.
    return unexpected(request, exc)


async def _server_error(request: Request, exc: Exception) -> Response:
    # ServerErrorMiddleware calls this once the error has left api/observe.py, which names
    # every other answer and log line with the request's id: the same id again, for the
    # traceback's line and the answer's X-Request-ID, so a caller can quote it to us.
    context = observe.context_of(request.scope)
    token = CURRENT.set(context)
    try:
        response = unexpected(request, exc)
    finally:
        CURRENT.reset(token)
    response.headers[observe.HEADER] = context.request_id
    return response
