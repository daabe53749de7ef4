"""The OpenAPI document's responses: each operation's success schema and error statuses.

Routes and routers name their statuses with `answers(…)` and `errors(…)`; two are added
here to every operation they apply to, from what FastAPI knows of the route: 422 where it
validates input (in place of its own `HTTPValidationError`, which is not what the API
answers) and 413 where a request body is taken (api/limits.py refuses any over the limit).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.responses import Error, Open311Errors

Responses = dict[int | str, dict[str, Any]]

WHEN = {
    400: "the request is not one the resource can answer",
    401: "no bearer token, or one that is unknown or revoked (`unauthenticated`)",
    403: "the caller's roles or grids do not allow it (`forbidden`)",
    404: "no such resource (`not_found`)",
    409: "not allowed in the current state (`transition_not_allowed`, with `allowed_actions`),"
    " or a rule or a concurrent change refused it (`conflict`, with `rule`)",
    412: "If-Match names another version than the current one (`version_mismatch`, with"
    " `current_version`)",
    413: "the request body is larger than MINQING_MAX_BODY_BYTES (`too_large`)",
    422: "an input is invalid (`invalid`, with `fields`; `body` when the body is not JSON,"
    " not UTF-8 or nested too deeply)",
    429: "too many requests from this client (`rate_limited`, with Retry-After)",
    503: "the database is down or restarting (`unavailable`, with Retry-After), or a read"
    " model has not reached `min_position` yet (with its `position`)",
}
XML = {"text/xml": {"schema": {"type": "string", "description": "the same, as XML"}}}
# One Server-Sent Event (OpenAPI 3.2's itemSchema, as FastAPI's own streams describe it):
# `id` is the log position, `data` a CloudEvent as JSON; comments and `retry:` between.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "data": {"type": "string", "contentMediaType": "application/json"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


def errors(*statuses: int) -> Responses:
    """The contract's error body for these statuses (for `responses=`)."""
    return {s: {"model": Error, "description": WHEN[s]} for s in statuses}


def open311_errors(*statuses: int) -> Responses:
    """Open311's error list for these statuses, in JSON and (for .xml) XML."""
    return {s: {"model": Open311Errors, "description": WHEN[s], "content": XML} for s in statuses}


def answers(
    model: type[BaseModel] | None,
    *statuses: int,
    status: int = 200,
    description: str = "done",
    content: dict[str, Any] | None = None,
    open311: bool = False,
) -> dict[str, Any]:
    """A route decorator's `status_code`, `response_model=None` and `responses=`: the
    success body's `model` (documented only: the route's own data is sent as it is), its
    other media types in `content`, and the error statuses."""
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["model"] = model
    if content:
        success["content"] = content
    if open311 and 400 not in statuses:
        # Every Open311 path and query parameter passes the text policy (api/params.py),
        # which Open311 refuses as its own 400 list.
        statuses = (400, *statuses)
    failures = open311_errors(*statuses) if open311 else errors(*statuses)
    return {
        "status_code": status,
        "response_model": None,
        "responses": {status: success, **failures},
    }


def _errors_as_json(responses: dict[str, Any]) -> None:
    """Error bodies are JSON whatever the success's media type (a text route's 503)."""
    for status, response in responses.items():
        content = response.get("content", {})
        if not status.startswith(("4", "5")) or "application/json" in content:
            continue
        for media, body in list(content.items()):
            if "$ref" in body.get("schema", {}):
                content["application/json"] = content.pop(media)


def _body_refusals(path: str, operation: dict[str, Any]) -> None:
    """422 in the API's own schema wherever FastAPI validates, and 413 with a body."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    _errors_as_json(responses)
    schema = {"$ref": "#/components/schemas/" + ("Open311Errors" if "open311" in path else "Error")}
    for status, taken in (("422", "422" in responses), ("413", "requestBody" in operation)):
        if taken:
            responses[status] = {
                "description": WHEN[int(status)],
                "content": {"application/json": {"schema": schema}},
            }


def install(app: FastAPI) -> None:
    """Make `app.openapi()` document the body refusals, without FastAPI's own 422."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            for path, operations in document["paths"].items():
                for operation in operations.values():
                    _body_refusals(path, operation)
            schemas = document.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
