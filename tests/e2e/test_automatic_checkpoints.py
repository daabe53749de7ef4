"""The automatic checkpoint runs inside the API process in embedded mode, and only then:
the server signs the chain's head by itself and stops the scheduler when it shuts down."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit
from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server

SIGNING_KEY = Ed25519PrivateKey.generate()
THREAD = "minqing-checkpoints"
# 0.0005 h = 1.8 s: the scheduler then looks every second (its shortest poll).
PERIOD_HOURS = "0.0005"


def checkpoint_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == THREAD and t.is_alive())


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest) -> Iterator[tuple[str, pytest.MonkeyPatch]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "MINQING_AUDIT_SIGNING_KEY", base64.b64encode(SIGNING_KEY.private_bytes_raw()).decode()
        )
        patch.setenv("MINQING_AUDIT_CHECKPOINT_HOURS", PERIOD_HOURS)
        yield str(request.param), patch


def serve(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Generator[Server, None, None]:
    for url in _database(backend, request, tmp):
        yield from start_server(url, tmp)


def raise_concern(server: Server) -> None:
    _, token = server.principal([Role.STAFF])
    with server.client(token) as staff:
        r = staff.post(
            "/api/v1/concerns",
            json={
                "title": "楼道堆物",
                "description": "三楼楼道堆放杂物。",
                "category": "environment",
                "library": "problem",
                "channel": "visit",
                "grid": "2",
            },
        )
        assert r.status_code == 201, r.text


def listed(server: Server) -> list[dict[str, Any]]:
    _, token = server.principal([Role.SUPERVISOR])
    with server.client(token) as supervisor:
        r = supervisor.get("/api/v1/audit/checkpoints")
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items


def test_the_embedded_server_signs_checkpoints_by_itself_and_stops_the_thread_on_shutdown(
    env: tuple[str, pytest.MonkeyPatch], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend, _ = env
    before = checkpoint_threads()
    servers = serve(backend, request, tmp_path)
    server = next(servers)
    try:
        assert checkpoint_threads() == before + 1
        raise_concern(server)
        deadline = time.monotonic() + 20
        while not (items := listed(server)):
            assert time.monotonic() < deadline, "no automatic checkpoint"
            time.sleep(0.2)
        cp = items[0]
        assert cp["public_key"] == audit.public_key_b64(SIGNING_KEY)
        assert cp["position"] >= 1
    finally:
        servers.close()  # the server shuts down: its lifespan stops the scheduler
    assert checkpoint_threads() == before


def test_without_embedded_workers_no_checkpoint_is_signed_in_the_api_process(
    env: tuple[str, pytest.MonkeyPatch], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend, patch = env
    patch.setenv("MINQING_EMBEDDED_WORKERS", "false")
    before = checkpoint_threads()
    servers = serve(backend, request, tmp_path)
    server = next(servers)
    try:
        assert checkpoint_threads() == before
        raise_concern(server)
        time.sleep(2.5)  # longer than a period and two polls of the scheduler
        assert listed(server) == []
    finally:
        servers.close()
