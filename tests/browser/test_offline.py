"""Working without signal, in Chromium with the network cut and restored through the
DevTools protocol (Network.emulateNetworkConditions): the record form keeps a draft, a form
sent offline waits on the phone and is recorded once when the network returns, and one the
service refuses is listed on /ui/outbox with the reason in words."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

from domain.vocabulary import Role
from tests.browser.conftest import Site


def network(page: Page, online: bool) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": not online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    return cdp


def titles(site: Site) -> list[str]:
    app = site.server.app
    from projections import concerns as concern_list
    from projections.concerns import ConcernQuery

    rows = concern_list.list_concerns(
        app.db, ConcernQuery(), today=app.clock().date(), zone=app.zone, limit=200
    ).items
    return [r["title"] for r in rows]


def fill(page: Page, title: str, household: str = "6号楼1单元101") -> None:
    page.get_by_label("走访户（门牌）").fill(household)
    page.get_by_label("标题").fill(title)
    page.get_by_label("具体情况").fill("地下室积水，楼道里没有信号。")
    page.get_by_label("类别").select_option("environment")
    page.get_by_label("入库").select_option("problem")


def test_the_record_form_keeps_a_draft(shared_site: Site) -> None:
    site = shared_site
    site.user("draft-collector", [Role.COLLECTOR], ["2"])
    page = site.page("draft-collector", phone=True)
    page.goto(f"{site.base}/ui/record")
    page.get_by_label("标题").fill("草稿：电梯异响")
    page.reload()
    expect(page.get_by_label("标题")).to_have_value("草稿：电梯异响")
    expect(page.locator("#draft-restored")).to_be_visible()


def test_a_form_sent_offline_is_recorded_once_when_the_network_returns(
    shared_site: Site,
) -> None:
    site = shared_site
    site.user("offline-collector", [Role.COLLECTOR], ["2"])
    page = site.page("offline-collector", phone=True)
    page.goto(f"{site.base}/ui/record")
    cdp = network(page, online=False)
    fill(page, "地下室积水（离线登记）")
    page.get_by_role("button", name="保存走访").last.click()
    expect(page.locator("#queued")).to_be_visible()
    time.sleep(0.5)
    assert "地下室积水（离线登记）" not in titles(site)  # nothing reached the service
    # A second one the service will refuse: no household.
    fill(page, "楼道灯不亮（离线登记）", household="")
    page.get_by_role("button", name="保存走访").last.click()
    waiting = page.evaluate(
        """() => new Promise(r => { const q = indexedDB.open('minqing-outbox', 1);
           q.onsuccess = () => { const s = q.result.transaction('forms').objectStore('forms');
           const c = s.count(); c.onsuccess = () => r(c.result); }; })"""
    )
    assert waiting == 2

    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    for _ in range(300):  # 30 s: the queued record is sent when the page sees it is online
        if "地下室积水（离线登记）" in titles(site):
            break
        time.sleep(0.1)
    assert titles(site).count("地下室积水（离线登记）") == 1
    assert "楼道灯不亮（离线登记）" not in titles(site)

    page.goto(f"{site.base}/ui/outbox")
    refused = page.locator("#outbox-list li[data-state=refused]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("被退回")
    expect(refused).to_contain_text("楼道灯不亮（离线登记）")
    expect(refused.locator(".reason")).to_contain_text("走访户")
    expect(page.locator("#outbox-list li[data-state=waiting]")).to_have_count(0)
