"""Hotspots over HTTP, on both stores: three concerns at one place make one hotspot with
exactly those concerns; five at the office's own address make none; a caller of another
grid sees none. The deadline watcher records each hotspot once, however many watchers sweep
and however often, with a proactive concern on the committee's queue."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.e2e.ui_client import signed_in, ui_user
from workers.deadlines import DeadlineWatcher, WatcherConfig

RAISE = {
    "title": "楼道堆放杂物",
    "description": "楼道里堆满了纸箱",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
}


def test_three_at_a_place_make_one_hotspot_and_the_office_none(shared_server: Server) -> None:
    grid = "hot-1"
    _, token = shared_server.principal([Role.ADMIN, Role.STAFF])
    with shared_server.client(token) as c:

        def place(name: str, office: bool) -> str:
            body = {"grid": grid, "name": name, "kind": "building", "office": office}
            return str(c.post("/api/v1/places", json=body).json()["id"])

        building, office = place("3号楼", False), place("居委会", True)

        def raise_at(where: str) -> str:
            r = c.post("/api/v1/concerns", json={**RAISE, "grid": grid, "place": where})
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        behind = [raise_at(building) for _ in range(3)]
        for _ in range(5):
            raise_at(office)
        r = c.get(
            "/api/v1/hotspots",
            params={"grid": grid, "min_position": shared_server.event_count()},
        )
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    assert len(items) == 1
    (hotspot,) = items
    assert hotspot["place"] == building
    assert hotspot["category"] == "environment"
    assert hotspot["count"] == 3
    assert hotspot["days"] == 1
    assert sorted(hotspot["concern_ids"]) == sorted(behind)
    _, other = shared_server.principal([Role.STAFF], ["elsewhere"])
    with shared_server.client(other) as c:
        assert c.get("/api/v1/hotspots").json()["items"] == []
        assert c.get("/api/v1/hotspots", params={"grid": grid}).status_code == 403


# -- recorded by the deadline watcher, with a proactive concern on the committee's desk ------

# Near Hangzhou: the office at OFFICE_POINT, three more concerns 10 m from it (a false
# hotspot of its cell), and three at SPOT, 2 km away, with a point and no place (a cell).
OFFICE_POINT = {"lat": 30.2741, "lng": 120.1551, "datum": "wgs84"}
NEAR_OFFICE = {"lat": 30.27419, "lng": 120.1551, "datum": "wgs84"}
SPOT = {"lat": 30.29213, "lng": 120.1551, "datum": "wgs84"}


@pytest.fixture(scope="module", params=BACKENDS)
def quiet_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server whose own watcher sweeps once at start and then not for an hour: the test's
    watchers are the only ones that record."""
    tmp = tmp_path_factory.mktemp("hotspots")
    for url in _database(request.param, request, tmp):
        yield from start_server(url, tmp, deadline_check_seconds=3600)


def test_the_watcher_records_each_hotspot_once_with_a_proactive_concern(
    quiet_server: Server,
) -> None:
    server, grid = quiet_server, "hot-2"
    _, token = server.principal([Role.ADMIN, Role.STAFF])
    with server.client(token) as c:

        def place(name: str, office: bool, point: dict[str, Any] | None = None) -> str:
            body = {"grid": grid, "name": name, "kind": "building", "office": office}
            r = c.post("/api/v1/places", json={**body, **({"point": point} if point else {})})
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        def raise_(**where: Any) -> str:
            r = c.post("/api/v1/concerns", json={**RAISE, "grid": grid, **where})
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        building = place("3号楼", False)
        office = place("居委会", True, OFFICE_POINT)
        at_building = [raise_(place=building) for _ in range(3)]
        at_spot = [raise_(location=SPOT) for _ in range(3)]
        for _ in range(3):
            raise_(place=office)
            raise_(location=NEAR_OFFICE)

        def listed() -> list[dict[str, Any]]:
            r = c.get("/api/v1/hotspots", params={"grid": grid, "min_position": events()})
            assert r.status_code == 200, r.text
            items: list[dict[str, Any]] = r.json()["items"]
            return items

        def events() -> int:
            return server.event_count()

        found = listed()
        assert sorted(sorted(h["concern_ids"]) for h in found) == sorted(
            [sorted(at_building), sorted(at_spot)]
        )
        assert [h["proactive_concern_id"] for h in found] == [None, None]
        (by_cell,) = [h for h in found if "cell" in h]
        assert "place" not in by_cell
        assert by_cell["cell"].startswith("500m:")

        # Two watchers at once, then again: each hotspot is recorded once.
        watchers = [
            DeadlineWatcher(server.app, WatcherConfig(leader_election=False)) for _ in range(2)
        ]
        with ThreadPoolExecutor(2) as pool:
            sweeps = list(pool.map(lambda w: w.sweep(), watchers))
        assert sum(s.recorded["hotspot"] for s in sweeps) == 2
        assert all(s.failed == 0 for s in sweeps)
        before = events()
        assert watchers[0].sweep().recorded["hotspot"] == 0
        assert events() == before

        found = listed()
        proactive = {h["id"]: h["proactive_concern_id"] for h in found}
        assert all(proactive.values())
        assert len(set(proactive.values())) == 2
        for h in found:
            shown = c.get(f"/api/v1/concerns/{h['proactive_concern_id']}").json()
            assert shown["kind"] == "proactive"
            assert shown["status"] == "committee"
            assert shown["residents_count"] == 0
            assert shown["hotspot"] == h["id"]
            assert sorted(shown["linked"]) == sorted(h["concern_ids"])
            assert shown["category"] == "environment"
            assert shown["grid"] == grid
            behind = c.get(f"/api/v1/concerns/{h['concern_ids'][0]}").json()
            assert behind["hotspots"] == [
                {"id": h["id"], "proactive_concern_id": h["proactive_concern_id"]}
            ]
            assert behind["kind"] == "resident"
            # Public: Open311 shows the proactive concern without a point.
            with server.client() as public:
                shown = c.get(f"/api/v1/concerns/{h['proactive_concern_id']}").json()
                (row,) = public.get(f"/open311/v2/requests/{shown['reference']}.json").json()
            assert (row["lat"], row["long"]) == (None, None)
        # The web UI shows the proactive concern's page to the committee's staff, with
        # the concerns behind it linked; a concern behind links its proactive item.
        with signed_in(server, ui_user(server, [Role.STAFF], [grid])) as ui:
            for h in found:
                page = ui.get(f"/ui/concerns/{h['proactive_concern_id']}")
                assert page.status_code == 200, page.text
                assert "主动治理" in page.text
                for cid in h["concern_ids"]:
                    assert f'href="/ui/concerns/{cid}"' in page.text
                behind_page = ui.get(f"/ui/concerns/{h['concern_ids'][0]}").text
                assert f'href="/ui/concerns/{h["proactive_concern_id"]}"' in behind_page
        # The feed: the hotspot by its cell's id, never the concerns' exact point.
        _, integrator = server.principal([Role.INTEGRATOR])
        with server.client(integrator) as reader:
            feed = reader.get("/api/v1/events", params={"after": 0, "limit": 1000}).json()
        detected = [e for e in feed["events"] if e["type"] == "org.minqing.hotspot.detected.v1"]
        assert sorted(e["data"]["where"] for e in detected) == sorted([building, by_cell["cell"]])
        assert str(SPOT["lat"]) not in str(feed)
        assert str(NEAR_OFFICE["lat"]) not in str(feed)
        queue = c.get("/api/v1/queues/committee", params={"min_position": events()}).json()
        on_desk = [i["id"] for i in queue["items"] if i["id"] in proactive.values()]
        assert sorted(on_desk) == sorted(proactive.values())

        # The ledger counts the residents behind the 12 resident concerns, not the 2 drafts.
        month = datetime.now(server.app.zone).strftime("%Y-%m")
        r = c.get(
            "/api/v1/ledger",
            params={
                "from": month,
                "to": month,
                "grid": grid,
                "group_by": "grid",
                "min_position": events(),
            },
        )
        assert r.status_code == 200, r.text
        (row,) = r.json()["rows"]
        assert row["figures"]["residents_raising"] == 12
        assert row["figures"]["concerns_collected"] == 14
