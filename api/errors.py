"""Every error leaves the API as `{"error", "message", …details}`: the mapping lives here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TransitionNotAllowed,
    VersionMismatch,
)
from domain.unreadable import UnreadableEvent


class Unauthenticated(Exception):
    """No bearer token, or one that is unknown or revoked."""


class RateLimited(Exception):
    """Too many requests from one client; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


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
        return 409, error_body("conflict", str(exc), rule=exc.rule)
    if isinstance(exc, Invalid):
        fields = [{"field": f, "message": m} for f, m in exc.fields]
        return 422, error_body("invalid", str(exc), fields=fields)
    return 400, error_body("invalid", str(exc))


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "resident", "phone") -> "resident.phone"; ("query", "limit") -> "limit"
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or "body"


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
        fields = [
            {"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
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
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "invalid"}
        code = codes.get(exc.status_code, "invalid" if exc.status_code < 500 else "error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
