"""The places register and the grids' boundaries over HTTP, on both stores: a place
registered, listed and changed; a boundary drawn and read back as GeoJSON; a concern's
point outside its grid refused 422 naming `location` with nothing recorded; a GCJ-02 point
stored as WGS-84 for staff and never shown on the resident's tracking page or in the feed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.geo import Point, cell_of, distance_m, wgs84_to_gcj02
from domain.vocabulary import Role
from tests.conftest import Server

GRID = "pl"  # a grid of this module's own on the shared server
SQUARE = [[121.465, 31.225], [121.477, 31.225], [121.477, 31.235], [121.465, 31.235]]
BOUNDARY = {
    "type": "Feature",
    "properties": {"grid": GRID},
    "geometry": {"type": "Polygon", "coordinates": [[*SQUARE, SQUARE[0]]]},
}
INSIDE = Point(31.23, 121.47)
RAISE = {
    "title": "路灯不亮",
    "description": "5号楼东侧小路路灯坏了",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": GRID,
    "resident": {"name": "张秀英", "phone": "13800000000"},
}


@pytest.fixture(scope="module")
def admin(shared_server: Server) -> str:
    _, token = shared_server.principal([Role.ADMIN, Role.STAFF])
    with shared_server.client(token) as c:
        r = c.put(f"/api/v1/grids/{GRID}/boundary", json=BOUNDARY)
        assert r.status_code == 200, r.text
    return token


def test_a_place_is_registered_listed_and_changed(shared_server: Server, admin: str) -> None:
    with shared_server.client(admin) as c:
        r = c.post(
            "/api/v1/places",
            json={"grid": GRID, "name": "5号楼", "kind": "building", "point": INSIDE.as_dict()},
        )
        assert r.status_code == 201, r.text
        place = r.json()["id"]
        r = c.patch(f"/api/v1/places/{place}", json={"name": "5号楼（东）", "point": None})
        assert r.status_code == 200, r.text
        listed = c.get("/api/v1/places", params={"grid": GRID}).json()["items"]
    mine = next(p for p in listed if p["id"] == place)
    assert (mine["name"], mine["kind"], mine["point"]) == ("5号楼（东）", "building", None)


def test_a_place_point_outside_the_grid_is_refused_naming_point(
    shared_server: Server, admin: str
) -> None:
    with shared_server.client(admin) as c:
        r = c.post(
            "/api/v1/places",
            json={
                "grid": GRID,
                "name": "远处",
                "kind": "road",
                "point": {"lat": 31.3, "lng": 121.6},
            },
        )
    assert r.status_code == 422, r.text
    assert [f["field"] for f in r.json()["fields"]] == ["point"]


def test_the_boundary_reads_back_as_geojson(shared_server: Server, admin: str) -> None:
    with shared_server.client(admin) as c:
        body = c.get(f"/api/v1/grids/{GRID}/boundary").json()
        missing = c.get("/api/v1/grids/nowhere/boundary")
    assert body["type"] == "Feature"
    assert body["geometry"] == BOUNDARY["geometry"]
    assert missing.status_code == 404


def test_a_point_outside_the_grid_is_refused_naming_location_and_nothing_is_recorded(
    shared_server: Server, admin: str
) -> None:
    before = shared_server.event_count()
    with shared_server.client(admin) as c:
        r = c.post("/api/v1/concerns", json={**RAISE, "location": {"lat": 31.3, "lng": 121.6}})
        bad = c.post("/api/v1/concerns", json={**RAISE, "location": {"lat": 91, "lng": 121.6}})
    assert r.status_code == 422, r.text
    assert [f["field"] for f in r.json()["fields"]] == ["location"]
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"].startswith("location")
    assert shared_server.event_count() == before


def test_a_gcj02_point_is_kept_as_wgs84_for_staff_and_shown_to_no_public(
    shared_server: Server, admin: str
) -> None:
    shown = wgs84_to_gcj02(INSIDE)  # what a Chinese phone map gives for INSIDE
    location = {"lat": shown.lat, "lng": shown.lng, "datum": "gcj02"}
    with shared_server.client(admin) as c:
        r = c.post("/api/v1/concerns", json={**RAISE, "location": location})
        assert r.status_code == 201, r.text
        raised = r.json()
        concern = c.get(f"/api/v1/concerns/{raised['id']}").json()
        _, integrator = shared_server.principal([Role.INTEGRATOR])
    stored = Point(concern["location"]["lat"], concern["location"]["lng"])
    assert distance_m(stored, INSIDE) < 0.05
    with shared_server.client() as public:
        tracked = public.get(f"/api/v1/track/{raised['tracking_code']}").json()
    with shared_server.client(integrator) as c:
        feed = c.get("/api/v1/events", params={"subject": raised["id"]}).json()
    raised_events: list[dict[str, Any]] = [
        e for e in feed["events"] if e["subject"] == raised["id"]
    ]
    assert raised_events
    exact = (f"{stored.lat}", f"{stored.lng}", f"{shown.lat}", f"{shown.lng}")
    for text in (str(tracked), str(raised_events)):
        assert not any(x in text for x in exact)
    assert "location" not in raised_events[0]["data"]


def test_open311_shows_only_the_centre_of_the_points_cell(
    shared_server: Server, admin: str
) -> None:
    with shared_server.client(admin) as c:
        r = c.post("/api/v1/concerns", json={**RAISE, "location": INSIDE.as_dict()})
        assert r.status_code == 201, r.text
        reference = r.json()["reference"]
    with shared_server.client() as public:
        row = public.get(f"/open311/v2/requests/{reference}.json").json()[0]
    shown = Point(row["lat"], row["long"])
    assert shown == cell_of(INSIDE, 500).centre()  # the default cell: 500 m
    assert shown != INSIDE
    assert distance_m(shown, INSIDE) <= 500
    assert (row["lat"], row["long"]) != (INSIDE.lat, INSIDE.lng)


def test_the_public_achievement_library_shows_the_cell_never_the_point(
    shared_server: Server, admin: str
) -> None:
    member = shared_server.member()
    due = (datetime.now() + timedelta(days=10)).date().isoformat()
    with shared_server.client(admin) as c:
        raised = c.post("/api/v1/concerns", json={**RAISE, "location": INSIDE.as_dict()}).json()
        cid = raised["id"]
        assignment = {"owner": member, "duty_role": "mediator", "due_on": due}
        assert c.post(f"/api/v1/concerns/{cid}/handle-now", json=assignment).status_code == 200
        done = c.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "已修好"})
        assert done.status_code == 200, done.text
    with shared_server.client() as public:
        page = public.get(
            "/public/achievements", params={"min_position": done.json()["position"]}
        ).json()
    entry = next(e for e in page["items"] if e["id"] == cid)
    assert entry["cell"] == cell_of(INSIDE, 500).public()
    assert (entry["cell"]["lat"], entry["cell"]["lng"]) != (INSIDE.lat, INSIDE.lng)
