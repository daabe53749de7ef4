"""/openapi.json documents every operation's error statuses with the one Error schema, and
a schema for every success. What each operation must document is read from the route
itself (its dependencies, parameters and body), not from the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import get_if_match, get_principal, limit_rate
from api.main import create_app
from application.settings import Settings

ERROR = "#/components/schemas/Error"
OPEN311_ERROR = "#/components/schemas/Open311Errors"
# Operations that read no database, so never answer 503.
NO_DATABASE = {
    ("GET", "/healthz"),
    ("GET", "/workflow"),
    ("GET", "/workflow.mmd"),
    ("GET", "/api/v1/events/schemas"),
    ("GET", "/api/v1/events/schemas/{event_type}"),
    ("GET", "/asyncapi.json"),
    ("GET", "/open311/v2/services.{fmt}"),
}

# Operations whose path parameters name nothing that may be missing, so never answer 404:
# an unknown request id has recorded no events (an empty list), every year has a calendar.
NO_404 = {
    ("GET", "/api/v1/audit/requests/{request_id}"),
    ("GET", "/api/v1/calendar/{year}"),
    ("PUT", "/api/v1/calendar/{year}/days/{day}"),
}


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _operations(tmp_path: Path) -> list[tuple[Any, str, dict[str, Any], dict[str, Any]]]:
    """(route, method, its operation in /openapi.json, the document), every operation;
    a route as included (its router's prefix and dependencies applied)."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    document = app.openapi()
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                operation = document["paths"][route.path_format][method.lower()]
                found.append((route, method, operation, document))
    assert len(found) > 60
    return found


def _expected(route: Any, method: str) -> set[int]:
    calls = _calls(route.dependant)
    statuses: set[int] = set()
    if get_principal in calls:
        statuses |= {401, 403}
    if limit_rate in calls:
        statuses.add(429)
    if get_if_match in calls:
        statuses |= {412, 422}
    if route.body_field is not None:
        statuses |= {413, 422}
    if route.dependant.query_params:
        statuses.add(422)
    if route.dependant.path_params and (method, route.path_format) not in NO_404:
        statuses.add(404)
    if (method, route.path_format) not in NO_DATABASE:
        statuses.add(503)
    return statuses


def _schema_ref(response: dict[str, Any]) -> str | None:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref: str | None = schema.get("$ref")
    return ref


def test_every_operation_documents_its_error_statuses_with_the_error_schema(
    tmp_path: Path,
) -> None:
    missing, wrong_schema = [], []
    for route, method, operation, _ in _operations(tmp_path):
        responses = operation["responses"]
        name = f"{method} {route.path_format}"
        for status in _expected(route, method) - {int(s) for s in responses}:
            missing.append(f"{name}: {status}")
        for status, response in responses.items():
            if int(status) < 400 or (name, status) == ("GET /readyz", "503"):
                continue  # /readyz answers its own report when the database does not
            expected = OPEN311_ERROR if route.path_format.startswith("/open311/") else ERROR
            if _schema_ref(response) != expected:
                wrong_schema.append(f"{name}: {status} {_schema_ref(response)}")
    assert not missing, missing
    assert not wrong_schema, wrong_schema


def test_fastapis_own_validation_error_schema_is_gone(tmp_path: Path) -> None:
    document = _operations(tmp_path)[0][3]
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    error = schemas["Error"]
    assert {"error", "message"} <= set(error["required"])
    assert {"fields", "rule", "status", "allowed_actions", "current_version", "position"} <= set(
        error["properties"]
    )


def _meaningful(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """A schema that says something: a component with named fields, a list of them, a
    string for text, or an object documented as a whole."""
    if "$ref" in schema:
        target = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return bool(target.get("properties") or target.get("items") or target.get("anyOf")) or bool(
            target.get("type") == "object" and target.get("description")
        )
    return schema.get("type") == "string"


def test_every_success_has_a_schema(tmp_path: Path) -> None:
    bare = []
    for route, method, operation, document in _operations(tmp_path):
        for status, response in operation["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            contents = response.get("content", {})
            if not contents:
                bare.append(f"{method} {route.path_format} {status}: no content")
            for media, content in contents.items():
                schema = content.get("schema") or content.get("itemSchema") or {}
                if not (_meaningful(schema, document) or "properties" in schema):
                    bare.append(f"{method} {route.path_format} {status} {media}: {schema}")
    assert not bare, bare
