"""The visits register over HTTP: a visit is recorded with or without concerns, bad input and
the wrong caller are refused and record nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from domain.vocabulary import Role
from tests.conftest import Server

TODAY = date.today()
VISIT: dict[str, Any] = {
    "grid": "2",
    "household": "5号楼2单元301",
    "visited_on": (TODAY - timedelta(days=1)).isoformat(),
    "priority_visit": "elderly_sick",
    "notes": "独居老人，身体尚可。",
}
RAISE: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def _client(server: Server, roles: list[Role], grids: list[str] | None = None) -> httpx.Client:
    _, token = server.principal(roles, grids)
    return server.client(token)


def _refused(server: Server, client: httpx.Client, body: Any, status: int, code: str) -> Any:
    before = server.event_count()
    r = client.post("/api/v1/visits", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"] == code
    assert server.event_count() == before
    return r.json()


def test_collector_records_a_visit_that_yielded_no_concern(shared_server: Server) -> None:
    collector = _client(shared_server, [Role.COLLECTOR], ["2"])
    r = collector.post("/api/v1/visits", json=VISIT)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == 1
    assert body["position"] >= 1
    got = collector.get(f"/api/v1/visits/{body['id']}")
    assert got.status_code == 200
    visit = got.json()
    assert visit["household"] == "5号楼2单元301"
    assert visit["priority_visit"] == "elderly_sick"
    assert visit["priority_visit_label"]["zh"] == "老弱病残"
    assert visit["concern_ids"] == []
    assert visit["visited_on"] == VISIT["visited_on"]


def test_visit_names_the_concerns_raised_on_it(shared_server: Server) -> None:
    collector = _client(shared_server, [Role.COLLECTOR], ["2"])
    concern = collector.post("/api/v1/concerns", json=RAISE).json()["id"]
    r = collector.post("/api/v1/visits", json={**VISIT, "concern_ids": [concern]})
    assert r.status_code == 201, r.text
    visit = collector.get(f"/api/v1/visits/{r.json()['id']}").json()
    assert visit["concern_ids"] == [concern]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"visited_on": (TODAY + timedelta(days=2)).isoformat()}, "visited_on"),
        ({"household": "  "}, "household"),
        ({"grid": ""}, "grid"),
        ({"priority_visit": "rich"}, "priority_visit"),
        ({"concern_ids": [str(uuid.uuid4())]}, "concern_ids"),
        ({"visited_on": "3 March"}, "visited_on"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_visit_is_refused_naming_the_field(
    shared_server: Server, change: dict[str, Any], field: str
) -> None:
    staff = _client(shared_server, [Role.STAFF])
    error = _refused(shared_server, staff, {**VISIT, **change}, 422, "invalid")
    assert field in {f["field"].split(".")[-1] for f in error["fields"]}, error


def test_visit_naming_a_concern_of_another_grid_is_refused(shared_server: Server) -> None:
    staff = _client(shared_server, [Role.STAFF])
    concern = staff.post("/api/v1/concerns", json={**RAISE, "grid": "3"}).json()["id"]
    error = _refused(shared_server, staff, {**VISIT, "concern_ids": [concern]}, 422, "invalid")
    assert error["fields"][0]["field"] == "concern_ids"


def test_collector_outside_the_grid_may_not_record_a_visit_there(shared_server: Server) -> None:
    collector = _client(shared_server, [Role.COLLECTOR], ["3"])
    _refused(shared_server, collector, VISIT, 403, "forbidden")


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.INTEGRATOR, Role.CHAIR, Role.MEMBER])
def test_roles_other_than_collector_and_staff_may_not_record_visits(
    shared_server: Server, role: Role
) -> None:
    _refused(shared_server, _client(shared_server, [role]), VISIT, 403, "forbidden")


def test_visit_without_a_token_is_unauthenticated(shared_server: Server) -> None:
    _refused(shared_server, shared_server.client(), VISIT, 401, "unauthenticated")


def test_grid_3_collector_cannot_read_a_grid_2_visit(shared_server: Server) -> None:
    staff = _client(shared_server, [Role.STAFF])
    visit_id = staff.post("/api/v1/visits", json=VISIT).json()["id"]
    outsider = _client(shared_server, [Role.COLLECTOR], ["3"])
    assert outsider.get(f"/api/v1/visits/{visit_id}").status_code == 403
    assert staff.get(f"/api/v1/visits/{uuid.uuid4()}").status_code == 404


# -- the visits register ----------------------------------------------------------------------


def _record(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    r = client.post("/api/v1/visits", json={**VISIT, **changes})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def _register(client: httpx.Client, server: Server, **params: Any) -> dict[str, Any]:
    params.setdefault("min_position", server.event_count())
    r = client.get("/api/v1/visits", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_register_lists_a_grids_visits_latest_first_without_the_household(
    shared_server: Server,
) -> None:
    grid = f"g{uuid.uuid4().hex[:8]}"  # a grid of this test's own on the shared server
    staff = _client(shared_server, [Role.STAFF])
    days = [(TODAY - timedelta(days=n)).isoformat() for n in (3, 1, 2)]
    ids = [
        _record(staff, grid=grid, visited_on=day, household=f"{n}号楼")["id"]
        for n, day in enumerate(days)
    ]

    items = _register(staff, shared_server, grid=grid)["items"]

    assert [i["id"] for i in items] == [ids[1], ids[2], ids[0]]
    assert [i["visited_on"] for i in items] == sorted(days, reverse=True)
    first = items[0]
    assert first["priority_visit"] == "elderly_sick"
    assert first["priority_visit_label"] == {"zh": "老弱病残", "en": "Elderly or sick"}
    assert first["concern_count"] == 0
    assert "household" not in first
    assert "notes" not in first
    assert "号楼" not in str(items)


def test_the_register_filters_by_date_range_and_priority_kind(shared_server: Server) -> None:
    grid = f"g{uuid.uuid4().hex[:8]}"
    staff = _client(shared_server, [Role.STAFF])
    old, recent = (TODAY - timedelta(days=10)).isoformat(), (TODAY - timedelta(days=1)).isoformat()
    hardship = _record(staff, grid=grid, visited_on=old, priority_visit="hardship")["id"]
    plain = _record(staff, grid=grid, visited_on=recent, priority_visit=None)["id"]

    def ids(**params: Any) -> list[str]:
        return [i["id"] for i in _register(staff, shared_server, grid=grid, **params)["items"]]

    assert ids(priority_visit="hardship") == [hardship]
    assert ids(**{"from": recent}) == [plain]
    assert ids(to=old) == [hardship]
    assert ids(**{"from": old, "to": recent}) == [plain, hardship]
    assert ids(priority_visit="petitioner") == []


def test_the_register_pages_with_a_cursor(shared_server: Server) -> None:
    grid = f"g{uuid.uuid4().hex[:8]}"
    staff = _client(shared_server, [Role.STAFF])
    made = {_record(staff, grid=grid, household=f"{n}号")["id"] for n in range(5)}

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"grid": grid, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = _register(staff, shared_server, **params)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert set(seen) == made


def test_the_register_shows_only_the_callers_grids(shared_server: Server) -> None:
    staff = _client(shared_server, [Role.STAFF])
    _record(staff)  # grid 2
    grid3 = _client(shared_server, [Role.COLLECTOR], ["3"])

    items = _register(grid3, shared_server)["items"]

    assert all(i["grid"] == "3" for i in items)
    r = grid3.get("/api/v1/visits", params={"grid": "2"})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.INTEGRATOR, Role.MEMBER])
def test_roles_outside_the_staff_may_not_read_the_register(
    shared_server: Server, role: Role
) -> None:
    r = _client(shared_server, [role]).get("/api/v1/visits")
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert shared_server.client().get("/api/v1/visits").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"priority_visit": "rich"}, "priority_visit"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_register_filters_are_refused_naming_the_field(
    shared_server: Server, params: dict[str, Any], field: str
) -> None:
    r = _client(shared_server, [Role.STAFF]).get("/api/v1/visits", params=params)
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["fields"]]
