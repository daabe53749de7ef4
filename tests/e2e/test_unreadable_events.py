"""Over HTTP, on both stores: a stored event whose bytes were changed so they no longer decode.

The concern's reads answer the contract's JSON naming the position (its history lists the
other events and marks that one), the feed and the stream send a stand-in at that position
and go on; the read models park it, and /readyz, /metrics and `minqing projections` say so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.cli import main as cli_main
from domain.cloudevents import sequence
from domain.unreadable import UNREADABLE_TYPE
from domain.vocabulary import Role
from projections.registry import all_projections, names
from projections.runner import ProjectionRunner
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.integration.support import STAFF, assigned_concern, corrupt_event, draft


def damaged(server: Server, version: int = 2) -> tuple[UUID, int]:
    """A concern raised, handled and noted, another raised after it; the first's event of
    `version` made unreadable. (concern id, that event's position)"""
    concern = assigned_concern(server.app)
    server.app.record_progress(concern, STAFF, "已联系物业")
    server.app.raise_concern(STAFF, draft())
    bad = server.app.db.position_of(str(concern), version)
    assert bad is not None
    corrupt_event(server.database_url, bad)
    return concern, bad


def assert_unreadable_error(r: httpx.Response, position: int) -> None:
    assert r.status_code == 500, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["error"] == "unreadable_event"
    assert body["position"] == position
    assert f"position {position}" in body["message"]


def test_the_concerns_reads_name_the_event_and_the_history_marks_it(server: Server) -> None:
    _, token = server.principal([Role.SUPERVISOR, Role.STAFF])
    _, limited = server.principal([Role.STAFF], grids=["2"])
    concern, bad = damaged(server)
    with server.client(token) as supervisor, server.client(limited) as staff:
        assert_unreadable_error(supervisor.get(f"/api/v1/concerns/{concern}"), bad)
        assert_unreadable_error(
            supervisor.get(f"/api/v1/concerns/{concern}", params={"as_of_version": 1}), bad
        )

        r = supervisor.get(f"/api/v1/concerns/{concern}/history")
        assert r.status_code == 200, r.text
        events = r.json()["events"]
        assert [e["type"] for e in events] == ["Raised", "unreadable", "ProgressRecorded"]
        assert events[1]["unreadable"] is True
        assert (events[1]["position"], events[1]["version"]) == (bad, 2)
        assert events[0]["data"]["title"]
        assert events[2]["data"]["note"] == "已联系物业"

        # When Raised itself is unreadable, the concern's grid is unknown: a principal
        # limited to grids cannot be checked against it.
        other, raised = damaged(server, version=1)
        r = supervisor.get(f"/api/v1/concerns/{other}/history")
        assert r.status_code == 200, r.text
        assert [e["type"] for e in r.json()["events"]][:2] == ["unreadable", "HandledNow"]
        assert_unreadable_error(staff.get(f"/api/v1/concerns/{other}/history"), raised)


def stream(client: httpx.Client, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    with client.stream("GET", "/api/v1/events/stream", params={"after": 0}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if len(events) == count:
                    break
            assert time.monotonic() < deadline, "the stream fell silent"
    return events


def test_the_feed_and_the_stream_send_a_stand_in_at_that_position_and_go_on(
    server: Server,
) -> None:
    _, token = server.principal([Role.INTEGRATOR])
    concern, bad = damaged(server)
    with server.client(token) as reader:
        r = reader.get("/api/v1/events", params={"limit": 1000})
        assert r.status_code == 200, r.text
        pulled = r.json()["events"]
        streamed = stream(reader, len(pulled))
        schemas = reader.get("/api/v1/events/schemas").json()
        refused = reader.get("/api/v1/events", params={"type": UNREADABLE_TYPE})

    assert streamed == pulled
    [stand_in] = [e for e in pulled if e["type"] == UNREADABLE_TYPE]
    assert stand_in["sequence"] == sequence(bad)
    assert stand_in["subject"] == str(concern)
    assert "data" not in stand_in
    assert pulled[-1]["type"] == "org.minqing.concern.raised.v1"  # what came after it
    assert UNREADABLE_TYPE in schemas["types"]
    assert UNREADABLE_TYPE in schemas["schemas"]
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "type"


@pytest.fixture(params=BACKENDS)
def api_only(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server whose read models are fed by a separate worker (here: the test)."""
    for url in _database(request.param, request, tmp_path):
        yield from start_server(url, tmp_path, embedded_workers=False)


def test_the_read_models_park_it_and_operations_show_it(
    api_only: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = api_only
    _, bad = damaged(server)
    # What `minqing worker projections` runs, retrying a hundredth of a second apart.
    ProjectionRunner(server.app, all_projections(), retry_seconds=0.01).catch_up()

    with server.client() as public:
        ready = public.get("/readyz")
        metrics = public.get("/metrics").text

    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["status"] == body["error"] == "degraded"
    assert body["message"]
    assert body["parked"]["concern_list"] == [bad]
    assert "concern_list" in body["message"]
    assert body["position"] == server.event_count()
    assert {"database", "webhooks"} <= set(body)
    assert set(body["projections"]) == set(names())
    for name, state in body["projections"].items():
        assert state["lag"] == 0
        assert state["parked"] == (1 if name in body["parked"] else 0)
    assert 'minqing_projection_parked_events{projection="concern_list"} 1' in metrics
    assert 'minqing_projection_parked_events{projection="event_counts"} 0' in metrics

    settings = server.served.state.settings if server.served else None
    assert settings is not None
    assert settings.master_key
    monkeypatch.setenv("MINQING_DATABASE_URL", server.database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", settings.master_key)
    monkeypatch.setenv("MINQING_EMBEDDED_WORKERS", "false")
    capsys.readouterr()

    assert cli_main(["projections", "parked", "concern_list"]) == 0
    [header, line] = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["projection", "position", "event", "type"]
    assert line.split()[:3] == ["concern_list", str(bad), "Concern.HandledNow"]
    assert "MapperDeserialisationError" in line

    # A rebuild of every read model parks it again rather than failing.
    assert cli_main(["projections", "rebuild"]) == 0
    assert f"concern_list parked 1 events it failed on (positions {bad})" in capsys.readouterr().err

    # No fix makes changed bytes readable: a retry keeps it parked, and says so.
    assert cli_main(["projections", "retry", "concern_list"]) == 1
    out, err = capsys.readouterr()
    assert "unparked 0" in out
    assert "still parked: 1" in err
    assert str(bad) in out
