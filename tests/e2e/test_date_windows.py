"""Date windows (api/dates.py): a date or time outside 2000-01-01 … today + 10 years (a
visit: today + 1 day) in any query parameter or request body is 422 naming the field, never
a 500, and records nothing; Open311 and the web UI refuse them in their own formats."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.dates import latest
from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.test_text_policy import DOC, RAISE, _nested, _operations, _resolve, _url
from tests.e2e.ui_client import signed_in, text_of, ui_user
from tests.integration.support import draft

FAR = {
    "date": ("0001-01-01", "9999-12-31"),
    "date-time": ("0001-01-01T00:00:00", "9999-12-31T23:59:59"),
}
TODAY = datetime.now(UTC).date()


def dated(schema: dict[str, Any], path: tuple[str | int, ...] = ()) -> Iterator[tuple[Any, str]]:
    """The paths of every date and date-time in a schema, with the format."""
    schema = _resolve(schema)
    for option in schema.get("anyOf", []):
        yield from dated(option, path)
    if schema.get("type") == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from dated(sub, (*path, name))
    elif schema.get("format") in FAR:
        yield path, schema["format"]


def _cases() -> list[tuple[str, str, str, tuple[Any, ...], str]]:
    cases = []
    for method, path, op in _operations():
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        for at, kind in dated(content["schema"]) if content else []:
            cases += [(method, path, "body", at, value) for value in FAR[kind]]
        for p in op.get("parameters", []):
            for _, kind in dated(p["schema"]) if p["in"] == "query" else []:
                cases += [(method, path, "query", (p["name"],), value) for value in FAR[kind]]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def desk(shared_server: Server) -> Iterator[httpx.Client]:
    _, token = shared_server.principal(list(Role), member=shared_server.member())
    with shared_server.client(token) as client:
        yield client


def refused(
    server: Server, client: httpx.Client, method: str, url: str, field: str, **kw: Any
) -> None:
    """Send, and check: 422 naming the field with the window, nothing recorded."""
    before = server.event_count()
    r = client.request(method, url, **kw)
    assert r.status_code == 422, r.text
    named = [f for f in r.json()["fields"] if f["field"] == field]
    assert named, r.text
    assert named[0]["message"].startswith("must be between 2000-01-01 and ")
    assert server.event_count() == before


def test_the_generated_cases_cover_bodies_and_queries() -> None:
    fields = {(where, ".".join(map(str, at))) for _, _, where, at, _ in CASES}
    assert {("body", "due_on"), ("body", "visited_on"), ("body", "scheduled_for")} <= fields
    assert {("query", "as_of"), ("query", "from"), ("query", "to")} <= fields
    assert DOC["paths"]  # the document the cases come from


@pytest.mark.parametrize(
    ("method", "path", "where", "at", "value"),
    CASES,
    ids=[f"{m} {p} {w}:{'.'.join(map(str, a))}={v}" for m, p, w, a, v in CASES],
)
def test_a_date_outside_the_window_is_422_naming_it(
    method: str,
    path: str,
    where: str,
    at: tuple[Any, ...],
    value: str,
    shared_server: Server,
    desk: httpx.Client,
) -> None:
    field = ".".join(map(str, at))
    if where == "body":
        kw: dict[str, Any] = {"json": _nested(at, value)}
    else:
        kw = {"params": {field: value}, "json": {} if method in ("POST", "PATCH") else None}
    refused(shared_server, desk, method, _url(path), field, **kw)


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "0001-01", "9999-12", "1999-12"])
@pytest.mark.parametrize("field", ["from", "to"])
@pytest.mark.parametrize("path", ["/api/v1/ledger", "/api/v1/visits", "/api/v1/ledger/concerns"])
def test_ledger_and_visit_ranges_outside_the_window_are_422(
    path: str, field: str, value: str, shared_server: Server, desk: httpx.Client
) -> None:
    params = {field: value, "figure": "concerns_collected"}
    refused(shared_server, desk, "GET", path, field, params=params)


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_a_ledger_cell_month_outside_the_window_is_422(
    month: str, shared_server: Server, desk: httpx.Client
) -> None:
    params = {"figure": "concerns_collected", "month": month}
    refused(shared_server, desk, "GET", "/api/v1/ledger/concerns", "month", params=params)


def test_the_issues_requests_are_422_and_the_window_itself_is_accepted(
    shared_server: Server, desk: httpx.Client
) -> None:
    params = {"from": "0001-01-01", "to": "9999-12-31"}
    refused(shared_server, desk, "GET", "/api/v1/ledger", "from", params=params)
    made = desk.post("/api/v1/concerns", json=RAISE).json()
    as_of = {"as_of": "9999-12-31T23:59:59"}
    refused(shared_server, desk, "GET", f"/api/v1/concerns/{made['id']}", "as_of", params=as_of)
    assert desk.get(
        "/api/v1/ledger", params={"from": "2000-01", "to": TODAY.isoformat()}
    ).is_success
    last = (TODAY + timedelta(days=3653)).isoformat()
    assignment = {"owner": shared_server.member(), "duty_role": "mediator", "due_on": last}
    assert desk.post(f"/api/v1/concerns/{made['id']}/handle-now", json=assignment).is_success
    later = (latest() + timedelta(days=1)).isoformat()
    body = {"due_on": later, "reason": "等待配件"}
    url = f"/api/v1/concerns/{made['id']}/extend-deadline"
    refused(shared_server, desk, "POST", url, "due_on", json=body)


def test_a_visit_may_be_recorded_from_2000_but_not_before(
    shared_server: Server, desk: httpx.Client
) -> None:
    visit = {"grid": "2", "household": f"{uuid.uuid4().hex[:6]}号", "visited_on": "2000-01-01"}
    assert desk.post("/api/v1/visits", json=visit).status_code == 201
    visit["visited_on"] = "1999-12-31"
    refused(shared_server, desk, "POST", "/api/v1/visits", "visited_on", json=visit)


@pytest.mark.parametrize(
    "query",
    [
        "start_date=0001-01-01T00:00:00Z",
        "end_date=9999-12-31T23:59:59%2B08:00",
        "start_date=9999-12-31T00:00:00",
    ],
)
@pytest.mark.parametrize("resource", ["requests", "servicerequestupdates"])
def test_open311_dates_outside_the_window_are_refused_in_the_spec_format(
    resource: str, query: str, shared_server: Server
) -> None:
    with shared_server.client() as client:
        r = client.get(f"/open311/v2/{resource}.json?{query}")
    assert r.status_code == 400, r.text
    [error] = r.json()
    assert error["description"].startswith(query.split("=")[0] + " must be between 2000-01-01")


def test_the_ui_shows_dates_outside_the_window_on_the_page(shared_server: Server) -> None:
    supervisor = ui_user(shared_server, [Role.SUPERVISOR, Role.STAFF])
    made = shared_server.app.raise_concern(supervisor, draft()).id
    with signed_in(shared_server, supervisor) as c:
        page = c.get("/ui/supervision", params={"concern": made, "as_of": "9999-12-31T23:59:59"})
        assert page.status_code == 200
        # In the reader's language (zh by default): the field's label and the window.
        assert "须在 2000-01-01 至" in text_of(page.text)
        ledger = c.get("/ui/ledger", params={"from": "0001-01-01"})
        assert ledger.status_code == 422
        assert "须在 2000-01-01 至" in text_of(ledger.text)
