"""Fixtures: every storage test runs on SQLite and on a real PostgreSQL database of its own."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI

from adapters.store import event_store_env
from api.main import create_app
from application.minqing import Minqing
from application.settings import Settings
from domain.principal import Principal
from domain.vocabulary import DutyRole, Role

PG_ADMIN_URL = os.environ.get(
    "MINQING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgres"]


def pytest_configure(config: pytest.Config) -> None:
    """Tests take "today" as the service does, in the community's zone (the default
    MINQING_TIMEZONE): from 16:00 to 24:00 UTC Asia/Shanghai is already the next day, and a
    test reading the host's UTC date would disagree with the service by one day."""
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}".strip()
    return None


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    """The maintenance URL; skips (or fails, with MINQING_REQUIRE_POSTGRES=1) without a server."""
    problem = _postgres_reachable()
    if problem:
        if os.environ.get("MINQING_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem + " (MINQING_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)
    return PG_ADMIN_URL


def create_database(admin_url: str) -> str:
    """Create a fresh database and return its URL."""
    name = f"minqing_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by create_database, whoever is still connected."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'minqing.db'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    url = create_database(admin)
    try:
        yield url
    finally:
        drop_database(admin, url)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    yield from _database(request.param, request, tmp_path)


@pytest.fixture
def master_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def minqing(database_url: str, master_key: bytes) -> Iterator[Minqing]:
    """The application on a fresh database."""
    app = Minqing(event_store_env(database_url), master_key=master_key)
    try:
        yield app
    finally:
        app.close()


@dataclass
class Server:
    """A real uvicorn server on loopback, and what tests need to drive it."""

    base_url: str
    app: Minqing
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    served: FastAPI | None = None  # the served ASGI app: its state holds the server's Minqing

    def set_clock(self, clock: Callable[[], datetime] | None) -> None:
        """Make the server's own application read `clock` (None: the real clock again)."""
        assert self.served is not None
        served: Minqing = self.served.state.minqing
        served.clock = clock or (lambda: datetime.now(served.zone))

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def principal(
        self, roles: list[Role], grids: list[str] | None = None, member: str | None = None
    ) -> tuple[Principal, str]:
        """A new principal with a token."""
        name = f"p-{uuid.uuid4().hex[:10]}"
        p = self.app.accounts.add(name, roles, grids, uuid.UUID(member) if member else None)
        _, token = self.app.accounts.issue_token(p.id, "test")
        return p, token

    def member(self, name: str = "李强", duty: DutyRole = DutyRole.PROJECT_COORDINATOR) -> str:
        """A new registered member's id."""
        admin = self.app.accounts.find("admin")
        return self.app.register_member(admin, name, ["2"], [duty], True).id

    def event_count(self) -> int:
        return self.app.recorder.max_notification_id() or 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str, tmp: Path, **overrides: Any) -> Iterator[Server]:
    """Serve create_app(settings) on a free loopback port until the generator is closed;
    `overrides` are further settings."""
    key = base64.b64encode(os.urandom(32)).decode()
    port = _free_port()
    settings = Settings(
        **{
            "database_url": database_url,
            "master_key": key,
            "admin_token_file": tmp / "admin-token",
            "audit_signing_key_file": tmp / "audit-signing.key",
            "public_url": f"http://127.0.0.1:{port}",
            "track_rate_limit": 10_000,
            **overrides,
        }
    )
    served = create_app(settings)
    server = uvicorn.Server(
        # As `minqing serve` runs it: forwarded headers only from MINQING_TRUSTED_PROXIES.
        uvicorn.Config(
            served, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    side = Minqing(event_store_env(database_url), master_key=base64.b64decode(key))
    if side.accounts.count() == 0:
        side.accounts.add("admin", [Role.ADMIN, Role.STAFF])
    try:
        yield Server(f"http://127.0.0.1:{port}", side, database_url, served=served)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        side.close()


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A fresh server and database per test, on each backend."""
    for url in _database(request.param, request, tmp_path):
        yield from start_server(url, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per module and backend, for tests that make their own data."""
    tmp = tmp_path_factory.mktemp("shared")
    for url in _database(request.param, request, tmp):
        yield from start_server(url, tmp)


Factory = Callable[..., str]
