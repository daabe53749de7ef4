"""Screenshots of every page at phone and desktop widths for docs/web-ui.md (docs/screenshots/).

Opt-in: `MINQING_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py` loads the
worked story (`minqing demo`) plus, from screenshot_story.py, a meeting in session, open work,
time-limit requests, grid 2's boundary and places with two hotspots; lets the deadline
watcher sweep once, then photographs each page as the user who works on it (PNG in 256
colours). Runs on SQLite only: the pictures do not depend on the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser

from api.demo import load_demo
from api.ui import passwords
from projections.hotspots import HotspotQuery, hotspots
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, Site, _site, sign_in
from tests.browser.screenshot_story import open_work, places_and_hotspots, time_limits

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(
    os.environ.get("MINQING_SCREENSHOTS") != "1", reason="set MINQING_SCREENSHOTS=1 to write them"
)


@dataclass(frozen=True)
class Shot:
    """One page to photograph, as whom, and which of its folded forms to show open."""

    label: str
    user: str | None
    path: str
    opened: tuple[str, ...] = ()


def _watched(site: Site) -> None:
    """One sweep of the server's own deadline watcher once the read models it reads have
    caught up: the hotspots recorded with their proactive concerns, the missed time limits
    and supervision cards due, as on a server that has been running (and the same on every
    run: its next sweep, a minute on, finds nothing more to record)."""
    assert site.server.served is not None
    _caught_up(site)
    site.server.served.state.deadline_watcher.sweep()
    _caught_up(site)
    found = hotspots(site.server.app.db, HotspotQuery())
    assert len(found) == 2
    assert all(h["proactive_concern_id"] for h in found), found


def _caught_up(site: Site) -> None:
    """Wait until every read model has processed every event recorded so far."""
    runner = site.server.served.state.projections if site.server.served else None
    assert runner is not None
    head = runner.head()
    for projection in runner.projections:
        assert runner.wait_for(projection.name, head, 30) >= head, projection.name


def _save(png: bytes, path: Path) -> None:
    """Write the screenshot in 256 colours: a page's flat colours and anti-aliased text look
    the same, and the file is under half the size."""
    with Image.open(BytesIO(png)) as image:
        flat = image.convert("RGB").quantize(
            256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        flat.save(path, optimize=True)


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
    ids = time_limits(app, open_work(app))
    places_and_hotspots(app)
    _watched(demo_site)
    year = app.clock().year
    shots = [
        Shot("sign-in", None, "/ui/sign-in"),
        Shot("home", "wangfang", "/ui/"),
        Shot("record", "wangfang", "/ui/record"),
        Shot("triage", "demo-admin", "/ui/triage"),
        Shot("committee", "committee", "/ui/committee"),
        Shot("meeting-chair", "chen-chair", f"/ui/meetings/{ids['meeting']}"),
        Shot("meeting-vote", "liqiang", f"/ui/meetings/{ids['meeting']}/vote"),
        Shot("tasks", "liqiang", "/ui/tasks"),
        Shot("concern", "demo-admin", "/ui/concerns/MQ-2026-000001"),
        Shot(
            "limits-owner",
            "liqiang",
            f"/ui/concerns/{ids['owned']}",
            ("request-extension", "suspend"),
        ),
        Shot(
            "limits-committee",
            "committee",
            f"/ui/concerns/{ids['late']}",
            ("approve-suspension", "refuse-suspension"),
        ),
        Shot(
            "limits-supervisor",
            "supervisor",
            f"/ui/concerns/{ids['void']}",
            ("approve-void", "refuse-void"),
        ),
        Shot(
            "supervision",
            "supervisor",
            "/ui/supervision?concern=MQ-2026-000001&version=3&verify=true",
        ),
        Shot("ledger", "demo-admin", "/ui/ledger"),
        Shot("scorecards", "supervisor", "/ui/scorecards"),
        Shot("calendar", "demo-admin", f"/ui/calendar?year={year}"),
        Shot("hotspots", "grid2-leader", "/ui/hotspots"),
        Shot("places", "demo-admin", "/ui/places?grid=2"),
        Shot("boundary", "demo-admin", "/ui/grids/2/boundary"),
        Shot("achievements", None, "/ui/public/achievements"),
        Shot("track", None, f"/ui/track/{ids['code']}"),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            context = demo_site.browser.new_context(viewport=viewport)
            page = context.new_page()
            if shot.user:
                sign_in(page, demo_site.base, shot.user)
            page.goto(demo_site.base + shot.path)
            page.wait_for_load_state("networkidle")
            for action in shot.opened:
                page.locator(f"details[data-action='{action}']").evaluate("d => d.open = true")
            _save(page.screenshot(full_page=True), OUT / f"{shot.label}-{size}.png")
            context.close()
