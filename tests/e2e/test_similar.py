"""Similar concerns at intake over HTTP, on both stores: a concern recorded again in other
words (simplified, reordered, Chinese or Arabic digits) is suggested; another category, a
closed concern, one too far away or a different matter is not; at most five, most alike
first, each with its distance when a point was given."""

from __future__ import annotations

from typing import Any

import pytest

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import csrf_of, signed_in, text_of, ui_user

GRID = "sim"
RAISE = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": GRID,
}
HERE = {"lat": 31.23, "lng": 121.47}


class Desk:
    def __init__(self, server: Server) -> None:
        self.server = server
        _, token = server.principal([Role.STAFF])
        self.staff = server.client(token)

    def raise_(self, **changes: Any) -> dict[str, Any]:
        r = self.staff.post("/api/v1/concerns", json={**RAISE, **changes})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def similar(self, **params: Any) -> list[dict[str, Any]]:
        params.setdefault("min_position", self.server.event_count())
        r = self.staff.get("/api/v1/concerns/similar", params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


@pytest.fixture(scope="module")
def desk(shared_server: Server) -> Desk:
    return Desk(shared_server)


def test_the_same_matter_in_other_words_and_order_is_suggested(desk: Desk) -> None:
    grid = {"grid": f"{GRID}-1"}
    first = desk.raise_(**grid)
    other = desk.raise_(
        **grid, title="3号楼楼道堆放杂物", description="楼道里堆满了纸箱，存在消防隐患"
    )
    found = desk.similar(
        title="五号楼东边小路的路灯坏了",
        description="路灯不亮两周了，晚上出门不方便",
        category="environment",
        **grid,
    )
    assert [i["id"] for i in found] == [first["id"]]
    assert found[0]["reference"] == first["reference"]
    assert found[0]["status"] == "intake"
    assert 0.5 <= found[0]["score"] <= 1
    assert other["id"] not in {i["id"] for i in found}


def test_another_category_or_a_closed_concern_is_not_suggested(desk: Desk) -> None:
    grid = {"grid": f"{GRID}-2"}
    desk.raise_(**grid, category="community_affairs")
    closed = desk.raise_(**grid)
    r = desk.staff.post(f"/api/v1/concerns/{closed['id']}/withdraw", json={"reason": "撤回"})
    assert r.status_code == 200, r.text
    found = desk.similar(title=RAISE["title"], category="environment", **grid)
    assert found == []


def test_a_point_finds_concerns_within_250_metres_with_their_distance(desk: Desk) -> None:
    near = desk.raise_(grid=f"{GRID}-3", location=HERE)
    desk.raise_(grid=f"{GRID}-3", location={"lat": 31.235, "lng": 121.47})  # ≈ 556 m north
    found = desk.similar(title="东侧小路路灯不亮", category="environment", lat=31.2310, lng=121.47)
    assert [i["id"] for i in found] == [near["id"]]
    assert 100 <= found[0]["distance_m"] <= 120


def test_a_place_finds_concerns_there_and_at_most_five_come_back(desk: Desk) -> None:
    grid = f"{GRID}-4"
    with desk.server.client(desk.server.principal([Role.ADMIN])[1]) as admin:
        place = admin.post(
            "/api/v1/places", json={"grid": grid, "name": "5号楼", "kind": "building"}
        ).json()["id"]
    raised = [desk.raise_(grid=grid, place=place) for _ in range(6)]
    desk.raise_(grid=grid)  # no place: not at this place
    found = desk.similar(title="路灯不亮", description="小路路灯坏了", place=place)
    assert len(found) == 5
    assert {i["id"] for i in found} <= {r["id"] for r in raised}
    scores = [i["score"] for i in found]
    assert scores == sorted(scores, reverse=True)


def test_a_caller_limited_to_another_grid_sees_none_of_these(desk: Desk) -> None:
    desk.raise_(grid=f"{GRID}-5")
    _, token = desk.server.principal([Role.STAFF], ["elsewhere"])
    with desk.server.client(token) as c:
        r = c.get(
            "/api/v1/concerns/similar",
            params={"title": RAISE["title"], "category": "environment"},
        )
        refused = c.get("/api/v1/concerns/similar", params={"title": "x", "grid": f"{GRID}-5"})
    assert r.status_code == 200
    assert r.json()["items"] == []
    assert refused.status_code == 403


def test_the_record_form_suggests_the_same_matter_before_it_is_recorded(desk: Desk) -> None:
    grid = f"{GRID}-6"
    first = desk.raise_(grid=grid)
    collector = ui_user(desk.server, [Role.COLLECTOR], [grid])
    before = desk.server.event_count()
    with signed_in(desk.server, collector) as c:
        token = csrf_of(c.get("/ui/record").text)
        # Wait until the read model has the concern (as min_position does for the API).
        desk.similar(title="x", grid=grid)
        form = {
            "csrf": token,
            "n": "1",
            "grid": grid,
            "household": "5号楼2单元301",
            "visited_on": "2026-01-05",
            "c0.title": "五号楼东边小路的路灯坏了",
            "c0.description": "路灯不亮两周了，\n晚上出门不方便",
            "c0.category": "environment",
            "c0.library": "problem",
            "action": "similar",
        }
        r = c.post("/ui/record", data=form)
    assert r.status_code == 200, r.text
    said = text_of(r.text)
    assert "近期已有相似的民情" in said
    assert first["reference"] in said
    assert 'value="五号楼东边小路的路灯坏了"' in r.text  # what was typed is kept
    assert desk.server.event_count() == before  # nothing recorded
