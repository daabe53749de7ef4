"""Schemathesis against a real server on both stores: every operation of /openapi.json, with
an admin token holding every role and with none, answers no 5xx, only statuses it
documents, and bodies that match the documented schema.

Bounded: a fixed number of examples per operation, derandomized (the same requests every
run). The server holds the worked story (`minqing demo`), so lists and pages answer real
data, and its read models have caught up before the run.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    CheckContext,
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from api.demo import load_demo
from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server

# Examples per operation and run: about 1,100 requests per store in all. Data that breaks
# the schema gets fewer: with a valid `min_position` beyond the log, a read waits its 2 s.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3}


@schemathesis.check
def no_server_error(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """Schemathesis' own `not_a_server_error`, but for the one 503 the API answers by
    design: a `min_position` the read model has not reached (generated positions are
    random), which says so with its `position`. A 503 for a database outage still fails."""
    if response.status_code == 503:
        body = response.json() if "json" in response.headers.get("content-type", [""])[0] else {}
        if body.get("error") == "unavailable" and "position" in body:
            return True
    return not_a_server_error(ctx, response, case)


# What is checked; the checks left out test what the API decides by design: a request that
# fits the schema may still be refused (an unknown id is 404, a rule 409: the schema cannot
# say), so `positive_data_acceptance` cannot hold; nor can `negative_data_rejection`, since
# a path parameter that breaks its schema is simply an unknown resource (404).
CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Not generated: these resolve the webhook URL's host name (DNS), and generated host names
# must not send queries off this machine. tests/e2e/test_webhooks_api.py covers them.
NOT_GENERATED = {("POST", "/api/v1/webhooks"), ("PATCH", "/api/v1/webhooks/{webhook_id}")}


@pytest.fixture(scope="module", params=BACKENDS)
def story_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    """A server holding the worked story, its read models caught up, no background workers
    (nothing is delivered anywhere), SSE streams that end after a second; and an admin
    token with every role."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    for url in _database(request.param, request, tmp):
        for server in start_server(
            url,
            tmp,
            embedded_workers=False,
            event_stream_max_seconds=1.0,
            event_stream_heartbeat_seconds=0.5,
            audit_signing_key=base64.b64encode(os.urandom(32)).decode(),
        ):
            for _ in load_demo(server.app):
                pass
            assert server.served is not None
            server.served.state.projections.catch_up()
            _, token = server.principal(list(Role))
            yield server, token


def _run(server: Server, headers: dict[str, str], mode: GenerationMode) -> list[str]:
    """Every operation with its EXAMPLES generated cases; the failures found, described."""
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    found: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if (operation.method.upper(), operation.path) in NOT_GENERATED:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            response = case.call(base_url=server.base_url, headers=headers, timeout=30)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, FailureGroup) as exc:
                found.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")

        try:
            exercise()
        except Unsatisfiable:
            # Negative data for an operation that takes no input: there is none to make.
            assert mode is GenerationMode.NEGATIVE, operation.label
    return found


@pytest.mark.parametrize(
    ("with_token", "mode"),
    [
        pytest.param(True, GenerationMode.POSITIVE, id="admin-token"),
        # Data that breaks the schema: refused with a documented 4xx, never a 5xx.
        pytest.param(True, GenerationMode.NEGATIVE, id="admin-token-invalid-data"),
        pytest.param(False, GenerationMode.POSITIVE, id="no-token"),
    ],
)
def test_every_operation_answers_what_it_documents(
    story_server: tuple[Server, str], with_token: bool, mode: GenerationMode
) -> None:
    server, token = story_server
    headers = {"Authorization": f"Bearer {token}"} if with_token else {}
    failures = _run(server, headers, mode)
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:20])


def _real_requests(server: Server, token: str) -> list[tuple[str, dict[str, str]]]:
    """(path template, path parameters) of reads that answer the story's own data:
    generated ids are unknown, so these are what check the 2xx bodies of one thing."""
    with server.client(token) as client:
        concerns = client.get("/api/v1/concerns").json()["items"]
        members = client.get("/api/v1/members").json()["items"]
        meetings = client.get("/api/v1/meetings").json()["items"]
        visits = client.get("/api/v1/visits").json()["items"]
    assert concerns, "the story's concerns are listed"
    assert meetings, "the story's meeting is listed"
    found: list[tuple[str, dict[str, str]]] = []
    for c in concerns:
        for path in ("/api/v1/concerns/{concern_ref}", "/api/v1/concerns/{concern_ref}/history"):
            found.append((path, {"concern_ref": c["id"]}))
        by_id = {"request_id": c["reference"], "fmt": "json"}
        found.append(("/open311/v2/requests/{request_id}.{fmt}", by_id))
    for m in meetings:
        for path in ("", "/history", "/minutes"):
            found.append((f"/api/v1/meetings/{{meeting_id}}{path}", {"meeting_id": m["id"]}))
    member = {"member_id": members[0]["id"]}
    found.append(("/api/v1/members/{member_id}", member))
    found.append(("/api/v1/members/{member_id}/points", member))
    found.append(("/api/v1/visits/{visit_id}", {"visit_id": visits[0]["id"]}))
    return found


def test_the_story_s_own_data_matches_the_documented_schemas(
    story_server: tuple[Server, str],
) -> None:
    server, token = story_server
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    checked = 0
    for path, parameters in _real_requests(server, token):
        case = schema[path]["GET"].Case(path_parameters=parameters)
        response = case.call(base_url=server.base_url, headers=headers, timeout=30)
        assert response.status_code == 200, (path, response.text)
        case.validate_response(response, checks=CHECKS, headers=headers)
        checked += 1
    # With the concern's resident revealed (a supervisor's read with a reason).
    concern = _real_requests(server, token)[0][1]
    case = schema["/api/v1/concerns/{concern_ref}"]["GET"].Case(
        path_parameters=concern, query={"reveal": "true", "reason": "schema check"}
    )
    response = case.call(base_url=server.base_url, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS, headers=headers)
    assert checked > 5
