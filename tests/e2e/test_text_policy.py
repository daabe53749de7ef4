"""The text policy (domain/text.py) at every JSON input of the API, generated from the
OpenAPI document: a NUL, a control character or (where one line is expected) a
bidirectional override in any free-text field of any request body, any query parameter or
any path parameter is 422 naming that field, in words, and records nothing. Accepted text
is stored in NFC; tab and newline pass where they are allowed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from api.main import create_app
from application.settings import Settings
from domain.vocabulary import Role
from tests.conftest import Server

# The fields domain/text.py's table names multi-line: they take newlines and bidi controls.
MULTI_LINE = {"description", "note", "reason", "missing", "summary", "comment", "minutes", "notes"}
MULTI_LINE |= {"requirement", "reply"}  # supervision (督办)
NUL, BELL, OVERRIDE = "\x00", "\x07", "\u202e"
BAD = {NUL: "U+0000", BELL: "U+0007", OVERRIDE: "U+202E"}
DOC: dict[str, Any] = create_app(Settings(database_url="sqlite:///unused.db")).openapi()
RAISE: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


Where = tuple[str | int, ...]  # a field's place in a body: ("resident", "name"), ("grids", 0)


def free_text(schema: dict[str, Any], path: Where = ()) -> Iterator[Where]:
    """The paths of every free-text string in a body schema (not enums, ids or dates)."""
    schema = _resolve(schema)
    for option in schema.get("anyOf", []):
        yield from free_text(option, path)
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from free_text(sub, (*path, name))
    elif kind == "array":
        yield from free_text(schema["items"], (*path, 0))
    elif kind == "string" and "enum" not in schema and "format" not in schema:
        yield path


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in DOC["paths"].items():
        if path.startswith("/open311/"):  # refused in the GeoReport format: test_text_forms.py
            continue
        for method, op in operations.items():
            yield method.upper(), path, op


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    where: str  # body, query or path
    field: str
    char: str
    body_path: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.field} {BAD[self.char]}"


def _body_cases() -> list[Case]:
    cases = []
    for method, path, op in _operations():
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if not content:
            continue
        for at in free_text(content["schema"]):
            field = ".".join(str(p) for p in at)
            for char in BAD:
                if char == OVERRIDE and str(at[-1]) in MULTI_LINE:
                    continue  # allowed in free text (Arabic, Hebrew)
                cases.append(Case(method, path, "body", field, char, at))
    return cases


def _parameter_cases(where: str) -> list[Case]:
    return [
        Case(method, path, where, p["name"], char)
        for method, path, op in _operations()
        for p in op.get("parameters", [])
        if p["in"] == where
        for char in BAD
    ]


BODY_CASES = _body_cases()
QUERY_CASES = _parameter_cases("query")
PATH_CASES = _parameter_cases("path")


def _nested(at: tuple[str | int, ...], value: str) -> Any:
    if not at:
        return value
    head, rest = at[0], at[1:]
    return [_nested(rest, value)] if isinstance(head, int) else {head: _nested(rest, value)}


def _url(path: str, bad: dict[str, str] | None = None) -> str:
    """`path` with its parameters filled: a fresh id each, or the bad value for one."""
    for name in [s.split("}")[0] for s in path.split("{")[1:]]:
        value = (bad or {}).get(name, str(uuid.uuid4()))
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


@pytest.fixture(scope="module")
def everyone(shared_server: Server) -> Iterator[httpx.Client]:
    """A client holding every role and acting as a member (an owner's commands), so nothing
    is refused before the input is read."""
    _, token = shared_server.principal(list(Role), member=shared_server.member())
    with shared_server.client(token) as client:
        yield client


def refused(server: Server, client: httpx.Client, case: Case, **kw: Any) -> None:
    """Send, and check: 422 naming the field with the character's code, nothing recorded."""
    before = server.event_count()
    r = client.request(case.method, kw.pop("url", _url(case.path)), **kw)
    assert r.status_code == 422, r.text
    error = r.json()
    assert error["error"] == "invalid"
    named = [f for f in error["fields"] if f["field"] == case.field]
    assert named, error
    assert BAD[case.char] in named[0]["message"]
    assert "not allowed" in named[0]["message"]
    assert server.event_count() == before


def test_the_generated_cases_cover_every_kind_of_input() -> None:
    fields = {c.field for c in BODY_CASES}
    assert {"title", "description", "resident.name", "grids.0", "minutes", "notes"} <= fields
    assert {"url", "description", "secret", "rules.quorum", "comment"} <= fields
    assert {"q", "grid", "as_of", "reason", "from"} <= {c.field for c in QUERY_CASES}
    assert {"concern_ref", "meeting_id", "tracking_code"} <= {c.field for c in PATH_CASES}


@pytest.mark.parametrize("case", BODY_CASES, ids=str)
def test_a_bad_character_in_any_body_field_is_422_naming_it(
    case: Case, shared_server: Server, everyone: httpx.Client
) -> None:
    body = _nested(case.body_path, f"路灯{case.char}坏了")
    refused(shared_server, everyone, case, json=body)


@pytest.mark.parametrize("case", QUERY_CASES, ids=str)
def test_a_bad_character_in_any_query_parameter_is_422_naming_it(
    case: Case, shared_server: Server, everyone: httpx.Client
) -> None:
    params = {case.field: f"a{case.char}b"}
    json: dict[str, Any] | None = {} if case.method in ("POST", "PATCH") else None
    refused(shared_server, everyone, case, params=params, json=json)


@pytest.mark.parametrize("case", PATH_CASES, ids=str)
def test_a_bad_character_in_any_path_parameter_is_422_naming_it(
    case: Case, shared_server: Server, everyone: httpx.Client
) -> None:
    url = _url(case.path, {case.field: f"MQ-2026{case.char}000001"})
    json: dict[str, Any] | None = {} if case.method in ("POST", "PATCH") else None
    refused(shared_server, everyone, case, url=url, json=json)


def test_the_concern_of_the_issue_is_refused_and_the_lists_keep_moving(
    shared_server: Server, everyone: httpx.Client
) -> None:
    case = Case("POST", "/api/v1/concerns", "body", "title", NUL)
    refused(shared_server, everyone, case, json={**RAISE, "title": "灯\u0000坏"})
    for params in ({"grid": "\x00"}, {"q": "a\x00b"}):
        r = everyone.get("/api/v1/concerns", params=params)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/json")
    made = everyone.post("/api/v1/concerns", json=RAISE)
    assert made.status_code == 201, made.text
    listed = everyone.get("/api/v1/concerns", params={"min_position": made.json()["position"]})
    assert made.json()["id"] in [i["id"] for i in listed.json()["items"]]


def test_text_is_stored_in_nfc_and_found_by_a_decomposed_query(
    shared_server: Server, everyone: httpx.Client
) -> None:
    decomposed = f"Cafe\u0301 {uuid.uuid4().hex[:8]}"  # e + COMBINING ACUTE ACCENT
    composed = decomposed.replace("e\u0301", "\u00e9")
    body = {**RAISE, "title": decomposed, "resident": {"name": "Rene\u0301e"}}
    made = everyone.post("/api/v1/concerns", json=body)
    assert made.status_code == 201, made.text
    concern = everyone.get(f"/api/v1/concerns/{made.json()['id']}").json()
    assert concern["title"] == composed
    assert concern["resident"]["name"] == "Ren\u00e9e"
    listed = everyone.get(
        "/api/v1/concerns", params={"q": decomposed, "min_position": made.json()["position"]}
    )
    assert [i["title"] for i in listed.json()["items"]] == [composed]


def test_tab_everywhere_and_newlines_in_multi_line_fields_are_kept(
    shared_server: Server, everyone: httpx.Client
) -> None:
    body = {**RAISE, "title": "路灯\t坏了", "description": "第一行\r\n第二行\n\t第三行"}
    made = everyone.post("/api/v1/concerns", json=body)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    concern = everyone.get(f"/api/v1/concerns/{cid}").json()
    assert concern["title"] == "路灯\t坏了"
    assert concern["description"] == "第一行\n第二行\n\t第三行"  # CRLF kept as LF
    r = everyone.post(f"/api/v1/concerns/{cid}/decline", json={"reason": "一\n二\u202e三"})
    assert r.status_code == 200, r.text
    before = shared_server.event_count()
    r = everyone.post("/api/v1/concerns", json={**RAISE, "title": "路灯\n坏了"})
    assert r.status_code == 422
    [problem] = r.json()["fields"]
    assert problem == {
        "field": "title",
        "message": "contains a line break (U+000A), which is not allowed in a single-line field",
    }
    assert shared_server.event_count() == before


def test_tracking_feedback_with_a_control_character_records_nothing(
    shared_server: Server, everyone: httpx.Client
) -> None:
    made = everyone.post("/api/v1/concerns", json=RAISE).json()
    cid, code = made["id"], made["tracking_code"]
    owner = shared_server.member()
    assignment = {"owner": owner, "duty_role": "project_coordinator", "due_on": "2030-01-01"}
    assert everyone.post(f"/api/v1/concerns/{cid}/handle-now", json=assignment).is_success
    assert everyone.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "已修"}).is_success
    with shared_server.client() as anonymous:
        case = Case("POST", "/api/v1/track/{code}/feedback", "body", "comment", NUL)
        body = {"solved": True, "satisfaction": "satisfied", "comment": "好\x00"}
        refused(shared_server, anonymous, case, url=f"/api/v1/track/{code}/feedback", json=body)
        body["comment"] = "很好\n谢谢"
        r = anonymous.post(f"/api/v1/track/{code}/feedback", json=body)
        assert r.status_code == 200, r.text
