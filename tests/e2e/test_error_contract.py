"""Every error is the contract's JSON: a database that is down answers 503 with Retry-After,
bodies that cannot be parsed 422 naming `body`, bodies over the limit 413, and anything
unexpected 500 — never a text/plain "Internal Server Error"."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from adapters.json_logs import JsonFormatter
from api.main import create_app
from api.responses import Error
from application.settings import Settings
from domain.vocabulary import Role
from tests.conftest import Server, _free_port, create_database, drop_database, start_server

CONCERN: dict[str, Any] = {
    "title": "路灯坏了",
    "description": "东侧小路路灯两周不亮",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}
MIB = 1024 * 1024


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the contract's JSON error with this status and code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


# -- the database down or restarting -------------------------------------------------------


@pytest.fixture
def pg_server(postgres_admin: str, tmp_path: Path) -> Iterator[Server]:
    url = create_database(postgres_admin)
    try:
        yield from start_server(url, tmp_path)
    finally:
        drop_database(postgres_admin, url)


def _terminate(admin: str, url: str, *, refuse: bool | None = None) -> None:
    """Terminate every backend of the database, as a PostgreSQL restart does; `refuse`
    also stops (True) or allows again (False) new connections, as a stopped server."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        if refuse is not None:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not refuse).lower()}')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


READS_AND_WRITES = [
    ("POST", "/api/v1/concerns"),
    ("GET", "/api/v1/concerns"),
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/events"),
]


def _unavailable(r: httpx.Response) -> None:
    error = assert_error(r, 503, "unavailable")
    assert int(r.headers["Retry-After"]) > 0
    assert "database" in error["message"]


@pytest.mark.postgres
def test_a_postgresql_restart_answers_503_json_never_500(
    pg_server: Server, postgres_admin: str
) -> None:
    _, token = pg_server.principal([Role.STAFF, Role.COLLECTOR, Role.INTEGRATOR])
    with pg_server.client(token) as client:
        for method, path in READS_AND_WRITES:  # every pooled connection in use once
            assert client.request(method, path, json=CONCERN).status_code < 300
        _terminate(postgres_admin, pg_server.database_url)
        answers = [client.request(m, p, json=CONCERN) for m, p in READS_AND_WRITES]
        for r in answers:
            if r.status_code >= 300:
                _unavailable(r)
        assert any(r.status_code == 503 for r in answers)  # a pooled connection was dead
        # Back once the pools have replaced their dead connections (one per failed request).
        for method, path in READS_AND_WRITES:
            for _ in range(50):
                r = client.request(method, path, json=CONCERN)
                if r.status_code < 300:
                    break
                _unavailable(r)
            assert r.status_code < 300, r.text


@pytest.mark.postgres
def test_postgresql_refusing_connections_answers_503_json_with_retry_after(
    pg_server: Server, postgres_admin: str
) -> None:
    _, token = pg_server.principal([Role.STAFF, Role.COLLECTOR, Role.INTEGRATOR])
    with pg_server.client(token) as client:
        assert client.post("/api/v1/concerns", json=CONCERN).status_code == 201
        _terminate(postgres_admin, pg_server.database_url, refuse=True)
        try:
            for method, path in READS_AND_WRITES:
                _unavailable(client.request(method, path, json=CONCERN))
            # The readiness probe says so in the same shape, keeping the status it reports.
            ready = client.get("/readyz")
            _unavailable(ready)
            assert ready.json()["status"] == "unavailable"
            # A page of the web UI answers an HTML page, not text/plain.
            page = httpx.get(f"{pg_server.base_url}/ui/", cookies={"minqing_session": "s"})
            assert page.status_code == 503
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["Retry-After"]
        finally:
            _terminate(postgres_admin, pg_server.database_url, refuse=False)


def test_sqlite_locked_by_another_process_answers_503_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'minqing.db'}"
    for server in start_server(url, tmp_path):
        _, token = server.principal([Role.STAFF, Role.COLLECTOR])
        with server.client(token) as client:
            assert client.post("/api/v1/concerns", json=CONCERN).status_code == 201
            holder = sqlite3.connect(tmp_path / "minqing.db", isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than
            try:  # the store's 10 s lock timeout
                r = client.post("/api/v1/concerns", json=CONCERN)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            assert_error(r, 503, "unavailable")
            assert r.headers["Retry-After"]


# -- bodies that cannot be parsed ----------------------------------------------------------


@pytest.fixture(scope="module")
def desk(shared_server: Server) -> Iterator[tuple[Server, httpx.Client]]:
    _, token = shared_server.principal([Role.STAFF, Role.COLLECTOR])
    with shared_server.client(token) as client:
        yield shared_server, client


def _post_raw(client: httpx.Client, content: Any, **headers: str) -> httpx.Response:
    return client.post(
        "/api/v1/concerns",
        content=content,
        headers={"Content-Type": "application/json", **headers},
    )


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"title": "x",', id="cut-short"),
        pytest.param(b"{not json", id="not-json"),
        pytest.param('{"title": "路灯"}'.encode("utf-16"), id="utf-16"),
        pytest.param(b'{"title": "\xff\xfe broken"}', id="invalid-utf-8"),
        pytest.param(b"[" * 10_000 + b"]" * 10_000, id="10000-deep-arrays"),
        pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="10000-deep-objects"),
        pytest.param(b"[" * 100_000, id="100000-open-brackets"),
        pytest.param(b'{"title": ' + b"[" * 33 + b"]" * 33 + b"}", id="33-deep"),
    ],
)
def test_a_body_that_cannot_be_parsed_is_422_naming_body(
    content: bytes, desk: tuple[Server, httpx.Client]
) -> None:
    server, client = desk
    before = server.event_count()
    error = assert_error(_post_raw(client, content), 422, "invalid")
    assert [f["field"] for f in error["fields"]] == ["body"]
    assert server.event_count() == before


def test_deep_nesting_is_refused_on_every_json_path(desk: tuple[Server, httpx.Client]) -> None:
    server, client = desk
    deep = b"[" * 10_000 + b"]" * 10_000
    # A command whose Idempotency-Key makes the body hashed before it is validated.
    r = client.post(
        f"/api/v1/concerns/{'0' * 8}-0000-4000-8000-{'0' * 12}/refer",
        content=deep,
        headers={"Content-Type": "application/json", "Idempotency-Key": "k-deep"},
    )
    assert_error(r, 422, "invalid")
    # The unauthenticated feedback page hashes its body too.
    r = httpx.post(
        f"{server.base_url}/api/v1/track/nope/feedback",
        content=deep,
        headers={"Content-Type": "application/json"},
    )
    assert_error(r, 422, "invalid")


def test_open311_refuses_deep_json_in_its_own_error_format(
    desk: tuple[Server, httpx.Client],
) -> None:
    server, _ = desk
    r = httpx.post(
        f"{server.base_url}/open311/v2/requests.json",
        content=b"[" * 10_000,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()[0]["code"] == 422


def test_nesting_within_the_limit_and_brackets_in_text_are_fine(
    desk: tuple[Server, httpx.Client],
) -> None:
    _, client = desk
    text = "[[[{{{" * 40 + '\\"]]]' + "转义\\\\"
    body = {**CONCERN, "description": text}
    r = client.post("/api/v1/concerns", json=body)
    assert r.status_code == 201, r.text


# -- bodies over the limit -----------------------------------------------------------------


def test_a_2_mib_body_is_413_with_content_length(desk: tuple[Server, httpx.Client]) -> None:
    server, client = desk
    before = server.event_count()
    big = {**CONCERN, "description": "灯" * (2 * MIB // 3)}
    r = client.post("/api/v1/concerns", json=big)
    assert "content-length" in {k.lower() for k in r.request.headers}
    assert_error(r, 413, "too_large")
    assert server.event_count() == before


def test_a_2_mib_body_is_413_when_sent_chunked(desk: tuple[Server, httpx.Client]) -> None:
    server, client = desk
    before = server.event_count()
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"title": "x", "description": "'
        for _ in range(32):
            sent += 64 * 1024
            yield b"a" * (64 * 1024)
        yield b'"}'

    r = _post_raw(client, chunks())
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert_error(r, 413, "too_large")
    assert server.event_count() == before


def test_a_body_over_a_configured_limit_is_413_even_where_no_body_is_read(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'minqing.db'}"
    for server in start_server(url, tmp_path, max_body_bytes=1000):
        with server.client() as client:
            r = client.post("/open311/v2/requests.json", content=b"x" * 1001)
            assert r.status_code == 413
            assert r.json()[0]["code"] == 413  # Open311's own error format
            r = client.request("GET", "/healthz", content=b"x" * 1001)
            assert_error(r, 413, "too_large")
            assert client.get("/healthz").status_code == 200


# -- anything unexpected -------------------------------------------------------------------


class _Fails(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path == "/middleware-fails":
            raise RuntimeError("a middleware failed")
        return await call_next(request)


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app with three places that fail unexpectedly: a route, a middleware and a
    page of the web UI."""
    tmp = tmp_path_factory.mktemp("failing")
    port = _free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'minqing.db'}",
        admin_token_file=tmp / "admin-token",
        master_key_file=tmp / "master.key",
        audit_signing_key_file=tmp / "audit.key",
    )
    app: FastAPI = create_app(settings)

    def route_fails() -> None:
        raise ZeroDivisionError("a route failed")

    app.add_api_route("/route-fails", route_fails)
    app.add_api_route("/ui/page-fails", route_fails)
    app.add_middleware(_Fails)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the failing server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.mark.parametrize("path", ["/route-fails", "/middleware-fails"])
def test_an_unexpected_failure_is_500_json(path: str, failing: str) -> None:
    error = assert_error(httpx.get(failing + path), 500, "internal")
    assert "a route failed" not in error["message"]  # nothing internal leaks out


class _Lines(logging.Handler):
    """The log lines as `minqing serve` writes them, formatted when logged: the request's
    id is read from the context of the code that logs."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[_Lines]:
    """The lines of the request log and of the API's errors while the test runs."""
    lines = _Lines()
    loggers = [logging.getLogger(name) for name in ("minqing.request", "minqing.api")]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(lines)
        logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        for logger, level in zip(loggers, previous, strict=True):
            logger.removeHandler(lines)
            logger.setLevel(level)


@pytest.mark.parametrize("path", ["/route-fails", "/middleware-fails", "/ui/page-fails"])
def test_an_unexpected_failure_carries_the_request_id(
    path: str, failing: str, log_lines: _Lines
) -> None:
    # Starlette's outermost ServerErrorMiddleware answers these, outside api/observe.py,
    # which puts the header on every other answer; the middleware that fails here is
    # outside it too (added last), so that request never reached it.
    reached_observe = path != "/middleware-fails"
    for sent in ({"X-Request-ID": f"office-7:{uuid.uuid4().hex}"}, {}, {"X-Request-ID": "a b"}):
        log_lines.lines.clear()
        r = httpx.get(failing + path, headers=sent)
        assert r.status_code == 500
        given = r.headers["x-request-id"]
        if sent.get("X-Request-ID") == "a b" or not sent:  # none, or not sane: a new one
            assert re.fullmatch(r"[0-9a-f]{32}", given)
        else:
            assert given == sent["X-Request-ID"]
        if not path.startswith("/ui/"):
            body = assert_error(r, 500, "internal")
            Error.model_validate(body)  # the contract's schema
            assert set(body) == {"error", "message"}  # and nothing it does not name
        # The traceback's line and the request's line name the id the caller got.
        tracebacks = [x for x in log_lines.lines if "unhandled" in x["message"]]
        assert len(tracebacks) == 1, log_lines.lines
        assert tracebacks[0]["request_id"] == given
        assert "exception" in tracebacks[0]
        requests = [x for x in log_lines.lines if x["logger"] == "minqing.request"]
        assert [x["request_id"] for x in requests] == ([given] if reached_observe else [])
        assert all(x["status"] == 500 for x in requests)


def test_an_unexpected_failure_of_a_page_is_an_html_page(failing: str) -> None:
    r = httpx.get(failing + "/ui/page-fails")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text
