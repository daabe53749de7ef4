"""The patterns pages in Chromium: the hotspot map drawn on the server shows a hotspot's
cell on a phone (no script needed, nothing blocked by the Content-Security-Policy, no
serious axe violation), and a collector joins a concern from the record form's suggestions
instead of recording it again, then sees the concern count one more resident."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from domain.vocabulary import Role
from tests.browser.conftest import Site
from tests.browser.test_accessibility import axe_source, violations

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[121.47, 31.23], [121.48, 31.23], [121.48, 31.24], [121.47, 31.24], [121.47, 31.23]]
    ],
}
RAISE = {
    "title": "东门路灯不亮",
    "description": "小区东门的路灯坏了一周，晚上很黑",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
}


def _raise(c: Any, grid: str, **extra: Any) -> str:
    r = c.post("/api/v1/concerns", json={**RAISE, "grid": grid, **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["reference"])


def test_the_hotspot_map_shows_a_hotspot_cell_on_a_phone(shared_site: Site) -> None:
    site, grid = shared_site, "b-map"
    server = site.server
    _, token = server.principal([Role.ADMIN, Role.STAFF], [grid])
    with server.client(token) as c:
        assert c.put(f"/api/v1/grids/{grid}/boundary", json=SQUARE).status_code == 200
        refs = [_raise(c, grid, location={"lat": 31.235, "lng": 121.475}) for _ in range(3)]
    site.user("map-staff", [Role.STAFF], [grid])
    page = site.page("map-staff", phone=True, lang="zh")
    page.goto(f"{site.base}/ui/hotspots?at={server.event_count()}")
    figure = page.get_by_role("img", name="网格边界与热点地图")
    expect(figure).to_be_visible()
    expect(page.locator("svg.map g.spot")).to_have_count(1)
    expect(page.locator("svg.map g.grid text")).to_have_text(f"网格 {grid}")
    # The map fits the phone's width (360 px) rather than making the page scroll sideways.
    box = figure.bounding_box()
    assert box is not None
    assert box["width"] <= 360
    row = page.locator("table.hotspots tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".count")).to_have_text("3")
    for ref in refs:
        expect(row.get_by_role("link", name=ref)).to_be_visible()
    assert violations(page, axe_source()) == []


def test_a_collector_joins_a_concern_from_the_record_form(shared_site: Site) -> None:
    site, grid = shared_site, "b-join"
    server = site.server
    _, token = server.principal([Role.STAFF], [grid])
    with server.client(token) as c:
        reference = _raise(c, grid)
        c.get("/api/v1/hotspots", params={"min_position": server.event_count()})
    site.user("join-collector", [Role.COLLECTOR], [grid])
    page = site.page("join-collector", phone=True, lang="zh")
    page.goto(f"{site.base}/ui/record")
    page.get_by_label("走访户（门牌）").fill("5号楼1单元202")
    page.get_by_label("标题").fill("东门的路灯坏了")
    page.get_by_label("具体情况").fill("东门路灯不亮一周了，晚上很黑")
    page.get_by_label("类别").select_option("environment")
    page.get_by_label("入库").select_option("problem")
    page.get_by_label("居民姓名", exact=False).fill("李秀兰")
    page.get_by_role("button", name="查找是否已有同一件事").click()
    join = page.get_by_role("button", name=f"加入这条民情：{reference}")
    expect(join).to_be_visible()
    assert violations(page, axe_source()) == []
    join.click()
    expect(page.locator(".flash")).to_contain_text("已作为联名居民加入这条民情")
    expect(page.locator(".residents-count dd")).to_have_text("2")
    expect(page.locator("ul.cosigners li")).to_have_count(1)
    expect(page.locator("ul.cosigners")).not_to_contain_text("李秀兰")
