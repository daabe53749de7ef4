"""Concurrent commands through HTTP, committed together by the process's writer, each get
their own answer: 201/200 with their own event's position, 409, 412 or an idempotent replay,
and one that conflicts never fails the others (on both stores)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx

from domain.vocabulary import Role
from tests.conftest import Server

RAISE: dict[str, Any] = {
    "title": "3号楼楼道灯不亮",
    "description": "三单元楼道灯坏了一周。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "3",
}
N = 24


def post(
    client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Callable[[], httpx.Response]:
    """A POST to make later."""
    return partial(client.post, path, json=body, headers=headers)


def together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls at once (released by a barrier), answers in the calls' order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def stored(server: Server) -> int:
    """How many events the log holds (positions lost to rolled-back batches are gaps)."""
    return len(server.app.recorder.select_notifications(1, 100_000))


def event_at(server: Server, position: int) -> tuple[str, int]:
    """(aggregate id, version) of the event stored at a log position."""
    [n] = server.app.recorder.select_notifications(position, 1)
    assert n.id == position
    return str(n.originator_id), n.originator_version


def test_concurrent_raises_each_get_their_own_concern_reference_and_position(
    server: Server,
) -> None:
    _, token = server.principal([Role.STAFF])
    clients = [server.client(token) for _ in range(N)]
    answers = together([post(c, "/api/v1/concerns", RAISE) for c in clients])
    assert [r.status_code for r in answers] == [201] * N, [r.text for r in answers]
    bodies = [r.json() for r in answers]
    assert len({b["id"] for b in bodies}) == N
    assert sorted(b["reference"] for b in bodies) == sorted({b["reference"] for b in bodies})
    assert len({b["position"] for b in bodies}) == N
    for body in bodies:
        # The position answered is where this concern's own (last) event sits.
        assert event_at(server, body["position"]) == (body["id"], body["version"])
        got = clients[0].get(f"/api/v1/concerns/{body['reference']}")
        assert got.status_code == 200, got.text
        assert got.json()["id"] == body["id"]
    for c in clients:
        c.close()


def test_a_conflicting_command_among_concurrent_ones_fails_alone(server: Server) -> None:
    _, token = server.principal([Role.STAFF, Role.COMMITTEE, Role.GRID_LEADER])
    with server.client(token) as c:
        ids = [c.post("/api/v1/concerns", json=RAISE).json()["id"] for _ in range(8)]
        stale = ids[0]
        assert c.post(f"/api/v1/concerns/{stale}/refer", json={}).status_code == 200
        replayed = c.post(
            f"/api/v1/concerns/{ids[1]}/refer", json={}, headers={"Idempotency-Key": "k-1"}
        )
        assert replayed.status_code == 200, replayed.text
    clients = [server.client(token) for _ in range(N)]
    calls: list[Callable[[], httpx.Response]] = []
    for i, client in enumerate(clients):
        if i % 6 == 0:  # If-Match on a version the concern has left: 412
            calls.append(
                post(
                    client,
                    f"/api/v1/concerns/{stale}/decline",
                    {"reason": "重复"},
                    {"If-Match": '"1"'},
                )
            )
        elif i % 6 == 1:  # refer again: not allowed from referred, 409
            calls.append(post(client, f"/api/v1/concerns/{stale}/refer", {}))
        elif i % 6 == 2:  # the same request under the same key: the first answer again
            calls.append(
                post(client, f"/api/v1/concerns/{ids[1]}/refer", {}, {"Idempotency-Key": "k-1"})
            )
        else:  # a new concern each
            calls.append(post(client, "/api/v1/concerns", RAISE))
    head = stored(server)
    answers = together(calls)
    for i, r in enumerate(answers):
        expected = {0: 412, 1: 409, 2: 200}.get(i % 6, 201)
        assert r.status_code == expected, (i, r.text)
        if expected == 200:
            assert r.json() == replayed.json()
        if expected == 201:
            body = r.json()
            assert event_at(server, body["position"]) == (body["id"], body["version"])
    raised = sum(1 for i in range(N) if i % 6 >= 3)
    # Each raise writes its concern and two index entries; nothing else was written.
    assert stored(server) == head + 3 * raised
    for c in clients:
        c.close()


def test_concurrent_writers_under_one_idempotency_key_get_one_answer(server: Server) -> None:
    _, token = server.principal([Role.STAFF])
    key = {"Idempotency-Key": f"once-{uuid.uuid4()}"}
    clients = [server.client(token) for _ in range(8)]
    head = stored(server)
    answers = together([post(c, "/api/v1/concerns", RAISE, key) for c in clients])
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert stored(server) == head + 3
    for c in clients:
        c.close()
