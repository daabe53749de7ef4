"""The patterns pages over HTTP as a browser uses them, on both stores: the hotspot map
draws a hotspot's cell in its SVG and lists it in its table, within the reader's grids; a
place is added and changed through the register's forms and a bad point refused in words;
an admin uploads a grid's boundary, and the record form then refuses a point outside it;
joining a concern from the record form's suggestions adds the resident as a co-signer."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from domain.geo import Point, cell_of
from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import csrf_of, signed_in, text_of, ui_user

RAISE = {
    "title": "路灯不亮",
    "description": "小区东门的路灯坏了一周",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
}
# About 1 km square, [lng, lat]; the points below lie inside it.
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[121.47, 31.23], [121.48, 31.23], [121.48, 31.24], [121.47, 31.24], [121.47, 31.23]]
    ],
}
INSIDE = {"lat": 31.235, "lng": 121.475}


def _raise(c: Any, grid: str, **extra: Any) -> str:
    r = c.post("/api/v1/concerns", json={**RAISE, "grid": grid, **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["reference"])


def test_the_map_draws_a_hotspot_cell_and_lists_it_within_the_readers_grids(
    shared_server: Server,
) -> None:
    grid = "map-1"
    _, token = shared_server.principal([Role.ADMIN, Role.STAFF], [grid])
    with shared_server.client(token) as c:
        assert c.put(f"/api/v1/grids/{grid}/boundary", json=SQUARE).status_code == 200
        refs = [_raise(c, grid, location=INSIDE) for _ in range(3)]
    cell = cell_of(Point(INSIDE["lat"], INSIDE["lng"]), 500)  # MINQING_PUBLIC_CELL_M's default
    staff = ui_user(shared_server, [Role.STAFF], [grid])
    with signed_in(shared_server, staff) as s:
        page = s.get("/ui/hotspots", params={"at": shared_server.event_count()})
        assert page.status_code == 200, text_of(page.text)
        svg = re.search(r"<svg class=\"map\".*?</svg>", page.text, re.S)
        assert svg, "the page has no map"
        # The grid outlined and labelled, and one cell square with its count, named.
        assert f'data-grid="{grid}"' in svg.group(0)
        assert '<path d="M' in svg.group(0)
        [spot] = re.findall(r'<g class="spot"[^>]*data-count="(\d+)"', svg.group(0))
        assert spot == "3"
        assert '<rect class="cell"' in svg.group(0)
        assert "3 件民情" in text_of(svg.group(0))
        table = text_of(page.text.split('class="hotspots"', 1)[1])
        assert f"约 {cell.size_m} 米见方的网格单元，中心 {cell.centre().lat:.5f}" in table
        for ref in refs:
            assert ref in table
        assert "3 件及以上" in text_of(page.text) or "3–4 件" in text_of(page.text)
        # A bad filter is refused in words, by its label.
        bad = s.get("/ui/hotspots", params={"from": "2026-13-01", "category": "weather"})
        assert bad.status_code == 422
        assert "「起始日期」请填写有效的日期" in text_of(bad.text)
        assert "请选择类别" in text_of(bad.text) or "「类别」" in text_of(bad.text)
    other = ui_user(shared_server, [Role.STAFF], ["map-elsewhere"])
    with signed_in(shared_server, other) as o:
        page = o.get("/ui/hotspots")
        assert page.status_code == 200
        assert refs[0] not in page.text
        assert "所选范围内没有热点" in text_of(page.text)
        assert o.get("/ui/hotspots", params={"grid": grid}).status_code == 403


def test_a_place_is_added_and_changed_through_the_forms_and_a_bad_point_refused(
    shared_server: Server,
) -> None:
    grid = "map-2"
    staff = ui_user(shared_server, [Role.STAFF], [grid])
    with signed_in(shared_server, staff) as s:
        token = csrf_of(s.get("/ui/places", params={"grid": grid}).text)
        form = {
            "csrf": token,
            "grid": grid,
            "place_name": "7号楼",
            "place_kind": "building",
            "point.lat": "95",
            "point.lng": "121.475",
            "point.datum": "wgs84",
        }
        refused = s.post("/ui/places", data=form)
        assert refused.status_code == 422
        said = text_of(refused.text)
        assert "「纬度」超出范围（-90 到 90）" in said
        assert 'value="7号楼"' in refused.text  # what was typed is kept
        assert shared_server.app.list_places(frozenset({grid})) == []
        done = s.post("/ui/places", data={**form, "point.lat": "31.235"})
        assert done.status_code == 303, text_of(done.text)
        listed = s.get(done.headers["location"])
        assert "地点已登记" in text_of(listed.text)
        assert "7号楼" in text_of(listed.text)
        [place] = shared_server.app.list_places(frozenset({grid}))
        assert place.point == {"lat": 31.235, "lng": 121.475}
        edit = s.get(f"/ui/places/{place.id}")
        assert 'value="7号楼"' in edit.text
        changed = s.post(
            f"/ui/places/{place.id}",
            data={
                "csrf": token,
                "place_name": "7号楼（东）",
                "place_kind": "building",
                "point.lat": "",
                "point.lng": "",
                "office": "true",
            },
        )
        assert changed.status_code == 303, text_of(changed.text)
        again = shared_server.app.get_place(place.id)
        assert (again.name, again.point, again.office) == ("7号楼（东）", None, True)
        bad = s.post(
            f"/ui/places/{place.id}",
            data={
                "csrf": token,
                "place_name": "7号楼",
                "place_kind": "building",
                "point.lat": "north",
                "point.lng": "121.4",
            },
        )
        assert bad.status_code == 422
        assert "「纬度」请填写数字" in text_of(bad.text)
    stranger = ui_user(shared_server, [Role.STAFF], ["map-other"])
    with signed_in(shared_server, stranger) as o:
        assert o.get(f"/ui/places/{place.id}").status_code == 403


def test_an_admin_uploads_a_boundary_and_the_record_form_refuses_a_point_outside(
    shared_server: Server,
) -> None:
    grid = "map-3"
    admin = ui_user(shared_server, [Role.ADMIN], [grid])
    with signed_in(shared_server, admin) as a:
        token = csrf_of(a.get(f"/ui/grids/{grid}/boundary").text)
        bad = a.post(
            f"/ui/grids/{grid}/boundary", data={"csrf": token, "geojson": '{"type": "Point"}'}
        )
        assert bad.status_code == 422
        assert "「GeoJSON」无法识别" in text_of(bad.text)
        feature = {"type": "Feature", "properties": {"grid": grid}, "geometry": SQUARE}
        done = a.post(
            f"/ui/grids/{grid}/boundary",
            data={"csrf": token},
            files={"file": ("grid.geojson", json.dumps(feature).encode(), "application/json")},
        )
        assert done.status_code == 303, text_of(done.text)
        shown = a.get(done.headers["location"])
        assert "边界已保存" in text_of(shown.text)
        assert '<path d="M' in shown.text
    boundary = shared_server.app.boundary_of(grid)
    assert boundary is not None
    assert boundary.geometry["type"] == "Polygon"
    staff = ui_user(shared_server, [Role.STAFF], [grid])
    with signed_in(shared_server, staff) as s:
        # Staff read the boundary but are offered no form to draw it.
        page = s.get(f"/ui/grids/{grid}/boundary")
        assert page.status_code == 200
        assert "上传或粘贴边界" not in page.text
        token = csrf_of(page.text)
        assert s.post(f"/ui/grids/{grid}/boundary", data={"csrf": token}).status_code == 403
        record = {
            "csrf": token,
            "n": "1",
            "grid": grid,
            "household": "1号楼101",
            "visited_on": date.today().isoformat(),
            "c0.title": "路灯不亮",
            "c0.description": "东门路灯坏了",
            "c0.category": "environment",
            "c0.library": "problem",
            "c0.channel": "visit",
            "c0.location.lat": "31.30",
            "c0.location.lng": "121.475",
            "c0.location.datum": "wgs84",
            "action": "save",
        }
        refused = s.post("/ui/record", data=record)
        assert refused.status_code == 422
        assert "「纬度」" not in text_of(refused.text)
        assert f"「位置」不在网格 {grid} 的边界内" in text_of(refused.text)
        saved = s.post("/ui/record", data={**record, "c0.location.lat": "31.235"})
        assert saved.status_code == 303, text_of(saved.text)
        [raised] = parse_qs(urlsplit(saved.headers["location"]).query)["concerns"]
        concern_text = text_of(s.get(f"/ui/concerns/{raised}").text)
        assert "31.235000, 121.475000" in concern_text
    assert shared_server.app.get_concern(UUID(raised)).location == {
        "lat": 31.235,
        "lng": 121.475,
    }


def test_joining_a_concern_from_the_record_form_counts_one_more_resident(
    shared_server: Server,
) -> None:
    grid = "map-4"
    _, token = shared_server.principal([Role.STAFF], [grid])
    with shared_server.client(token) as c:
        reference = _raise(c, grid, title="5号楼东侧路灯不亮", description="路灯坏了两周")
        # Wait until the read model the suggestions come from has the concern.
        c.get("/api/v1/hotspots", params={"min_position": shared_server.event_count()})
    concern = shared_server.app.concern_by_reference(reference)
    assert concern.residents_count == 1
    collector = ui_user(shared_server, [Role.COLLECTOR], [grid])
    with signed_in(shared_server, collector) as s:
        page = s.get("/ui/record")
        csrf = csrf_of(page.text)
        form = {
            "csrf": csrf,
            "n": "1",
            "grid": grid,
            "household": "5号楼1单元202",
            "visited_on": date.today().isoformat(),
            "c0.title": "5号楼东边的路灯不亮",
            "c0.description": "路灯坏了两周，晚上很黑",
            "c0.category": "environment",
            "c0.library": "problem",
            "c0.channel": "visit",
        }
        found = s.post("/ui/record", data={**form, "action": "similar"})
        assert found.status_code == 200
        join = f'name="join" value="0:{concern.id}"'
        assert join in found.text, text_of(found.text)
        assert f"加入这条民情：{reference}" in text_of(found.text)
        # Neither a resident nor anonymous: refused in words, nothing recorded.
        refused = s.post("/ui/record", data={**form, "join": f"0:{concern.id}"})
        assert refused.status_code == 422
        assert "请填写居民的姓名或电话，或勾选匿名" in text_of(refused.text)
        joined = s.post(
            "/ui/record",
            data={
                **form,
                "join": f"0:{concern.id}",
                "c0.resident.name": "李秀兰",
                "c0.resident.phone": "13900000000",
            },
        )
        assert joined.status_code == 303, text_of(joined.text)
        assert joined.headers["location"].startswith(f"/ui/concerns/{concern.id}")
    assert shared_server.app.get_concern(concern.id).residents_count == 2
    staff = ui_user(shared_server, [Role.STAFF], [grid])
    with signed_in(shared_server, staff) as s:
        shown = text_of(s.get(f"/ui/concerns/{reference}").text)
        assert re.search(r"反映居民人数\s+2", shown)
        assert "联名居民" in shown
        assert "李秀兰" not in shown.split("联名居民", 1)[1].split("修改")[0]
        assert "13900000000" not in shown
