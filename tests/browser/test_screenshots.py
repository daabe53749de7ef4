"""Screenshots of every page at phone and desktop widths for docs/web-ui.md (docs/screenshots/).

Opt-in: `MINQING_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py` loads the
worked story (`minqing demo`) plus a meeting in session and open work, then photographs each
page as the user who works on it. Runs on SQLite only: the pictures do not depend on the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Browser

from api.demo import load_demo
from api.ui import passwords
from application.minqing import Minqing, NewConcern
from domain.meeting import MeetingKind
from domain.vocabulary import Category, Channel, DutyRole, Library
from domain.voting import Choice
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, Site, _site, sign_in

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(
    os.environ.get("MINQING_SCREENSHOTS") != "1", reason="set MINQING_SCREENSHOTS=1 to write them"
)


def _concern(
    app: Minqing, by: str, title: str, text: str, category: Category, library: Library
) -> UUID:
    draft = NewConcern(title, text, category, library, Channel.VISIT, "2")
    return UUID(app.raise_concern(app.accounts.find(by), draft).id)


def _open_work(app: Minqing) -> dict[str, str]:
    """Beyond the story: concerns waiting at each desk and a meeting in session."""
    leader = app.accounts.find("grid2-leader")
    committee = app.accounts.find("committee")
    chair = app.accounts.find("chen-chair")
    members = {m.name: m.id for m in app.list_members()}
    _concern(
        app,
        "wangfang",
        "3号楼电梯经常停运",
        "电梯一周停了三次，高层老人下楼困难。",
        Category.LIVELIHOOD_PROJECT,
        Library.PROBLEM,
    )
    _concern(
        app,
        "wangfang",
        "希望增设老年人助餐点",
        "独居老人较多，希望社区开设助餐点。",
        Category.HARDSHIP_RELIEF,
        Library.SUGGESTION,
    )
    waiting = _concern(
        app,
        "wangfang",
        "垃圾分类点位夏季异味",
        "7号楼旁分类点异味大，需调整清运时间。",
        Category.ENVIRONMENT,
        Library.PROBLEM,
    )
    app.refer(waiting, leader)
    due_soon = _concern(
        app,
        "wangfang",
        "单元门禁损坏",
        "2单元门禁无法关闭。",
        Category.COMMUNITY_AFFAIRS,
        Library.PROBLEM,
    )
    today = app.clock().date()
    app.handle_now(
        due_soon, leader, members["李强"], DutyRole.PROJECT_COORDINATOR, today + timedelta(days=5)
    )
    real = app.clock
    app.clock = lambda: real() - timedelta(days=10)
    try:
        late = _concern(
            app,
            "wangfang",
            "健身器材松动",
            "广场健身器材螺丝松动，存在安全隐患。",
            Category.LIVELIHOOD_PROJECT,
            Library.PROBLEM,
        )
        app.handle_now(
            late, leader, members["李强"], DutyRole.PROJECT_COORDINATOR, today - timedelta(days=2)
        )
    finally:
        app.clock = real
    agenda = _concern(
        app,
        "wangfang",
        "小区停车位划线",
        "车辆乱停占用消防通道，建议重新划线。",
        Category.COMMUNITY_AFFAIRS,
        Library.SUGGESTION,
    )
    app.refer(agenda, leader)
    voters = [m.id for m in app.list_members() if m.votes_in_branch]
    meeting = app.schedule_meeting(
        committee,
        "11月主题党日·民情会诊",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone),
        "社区党群服务中心",
        members["陈书记"],
        voters,
    )
    mid = UUID(meeting.id)
    app.shortlist(mid, committee, agenda)
    present = [v for v in voters if v != members["王芳"]][:11]
    app.open_meeting(mid, chair, present, ["居民代表 刘阿姨"])
    app.open_vote(mid, chair, agenda)
    for voter in [v for v in present if v != members["李强"]][:6]:
        app.cast_vote(mid, chair, agenda, Choice.FOR, voter)
    inquiry = app.concern_by_reference("MQ-2026-000003")
    return {"meeting": str(mid), "code": inquiry.tracking_code or ""}


@pytest.fixture
def demo_site(request: pytest.FixtureRequest, browser: Browser, tmp_path: Path) -> Iterator[Site]:
    yield from _site(request, browser, tmp_path, "sqlite")


def test_screenshots_of_every_page(demo_site: Site) -> None:
    app = demo_site.server.app
    list(load_demo(app))
    for name in (
        "wangfang",
        "grid2-leader",
        "committee",
        "chen-chair",
        "liqiang",
        "supervisor",
        "demo-admin",
    ):
        passwords.set_password(app.db, app.accounts, name, PASSWORD)
    ids = _open_work(app)
    shots = [
        ("sign-in", None, "/ui/sign-in"),
        ("home", "wangfang", "/ui/"),
        ("record", "wangfang", "/ui/record"),
        ("triage", "demo-admin", "/ui/triage"),
        ("committee", "committee", "/ui/committee"),
        ("meeting-chair", "chen-chair", f"/ui/meetings/{ids['meeting']}"),
        ("meeting-vote", "liqiang", f"/ui/meetings/{ids['meeting']}/vote"),
        ("tasks", "liqiang", "/ui/tasks"),
        ("concern", "demo-admin", "/ui/concerns/MQ-2026-000001"),
        (
            "supervision",
            "supervisor",
            "/ui/supervision?concern=MQ-2026-000001&version=3&verify=true",
        ),
        ("ledger", "demo-admin", "/ui/ledger"),
        ("achievements", None, "/ui/public/achievements"),
        ("track", None, f"/ui/track/{ids['code']}"),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    for label, user, path in shots:
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            context = demo_site.browser.new_context(viewport=viewport)
            page = context.new_page()
            if user:
                sign_in(page, demo_site.base, user)
            page.goto(demo_site.base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"{label}-{size}.png"), full_page=True)
            context.close()
