"""Grid scope where it was missing, on both stores: registering members and the access log
(the API and the supervision page) answer a principal limited to grid 3 about grid 3 only."""

from __future__ import annotations

from typing import Any

import httpx

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, ui_user

MEMBER = {"name": "王芳", "duty_roles": ["environment_monitor"], "votes_in_branch": True}
RAISE: dict[str, Any] = {
    "title": "楼道灯不亮",
    "description": "三楼楼道灯坏了。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "resident": {"name": "张秀英", "phone": "13800000000"},
}


def _client(server: Server, roles: list[Role], grids: list[str] | None = None) -> httpx.Client:
    _, token = server.principal(roles, grids)
    return server.client(token)


def test_staff_of_grid_3_registers_members_of_grid_3_only(shared_server: Server) -> None:
    with _client(shared_server, [Role.STAFF], ["3"]) as grid3:
        for grids in (["2"], ["2", "3"], []):
            before = shared_server.event_count()
            r = grid3.post("/api/v1/members", json={**MEMBER, "grids": grids})
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden"
            assert "grid" in r.json()["message"]
            assert shared_server.event_count() == before
        assert grid3.post("/api/v1/members", json={**MEMBER, "grids": ["3"]}).status_code == 201
    with _client(shared_server, [Role.STAFF]) as everywhere:
        assert everywhere.post("/api/v1/members", json={**MEMBER, "grids": []}).status_code == 201


def _read_concern_in(server: Server, staff: httpx.Client, grid: str) -> str:
    """Raise a concern with a resident in `grid` and read it (one access-log entry)."""
    created = staff.post("/api/v1/concerns", json={**RAISE, "grid": grid})
    assert created.status_code == 201, created.text
    read = staff.get(f"/api/v1/concerns/{created.json()['id']}")
    assert read.json()["resident"]["name"] == "张秀英"
    reference: str = created.json()["reference"]
    return reference


def test_a_supervisor_of_grid_3_reads_the_access_log_of_grid_3_only(server: Server) -> None:
    with _client(server, [Role.STAFF]) as staff:
        in_2 = _read_concern_in(server, staff, "2")
        in_3 = _read_concern_in(server, staff, "3")
    with (
        _client(server, [Role.SUPERVISOR], ["3"]) as grid3,
        _client(server, [Role.SUPERVISOR]) as everywhere,
    ):
        limited = grid3.get("/api/v1/audit/access-log")
        assert limited.status_code == 200, limited.text
        assert [e["concern_reference"] for e in limited.json()["items"]] == [in_3]
        assert {e["grid"] for e in limited.json()["items"]} == {"3"}
        # Asking for the grid-2 concern by id finds nothing for them either.
        full = everywhere.get("/api/v1/audit/access-log").json()["items"]
        assert {e["concern_reference"] for e in full} == {in_2, in_3}
        grid2_id = next(e["concern_id"] for e in full if e["concern_reference"] == in_2)
        by_id = grid3.get("/api/v1/audit/access-log", params={"concern_id": grid2_id})
        assert by_id.json()["items"] == []
    # The supervision page lists the same.
    supervisor = ui_user(server, [Role.SUPERVISOR], ["3"])
    with signed_in(server, supervisor) as page:
        html = page.get("/ui/supervision").text
        assert in_3 in html
        assert in_2 not in html
