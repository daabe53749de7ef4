"""GET /api/v1/hotspots over HTTP, on both stores: three concerns at one place make one
hotspot with exactly those concerns; five at the office's own address make none; a caller
of another grid sees none."""

from __future__ import annotations

from typing import Any

from domain.vocabulary import Role
from tests.conftest import Server

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
