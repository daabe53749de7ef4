"""The Content-Security-Policy holds in a real Chromium: /docs and /redoc render from the
server's own assets with nothing fetched from elsewhere, and the pages that drew with inline
styles (the ledger's bars, the printable minutes) draw without them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from uuid import UUID

from domain.meeting import MeetingKind
from domain.vocabulary import Role
from tests.browser.conftest import Site
from tests.integration.support import STAFF, draft

if TYPE_CHECKING:
    from playwright.sync_api import Page

# ReDoc shows Redocly's logo from their CDN: the policy blocks it (and ReDoc then hides it).
KNOWN_BLOCKED = ("cdn.redoc.ly",)


def _watch(page: Page, base: str) -> tuple[list[str], list[str]]:
    """The page's CSP violations and the requests it completed to other hosts."""
    violations: list[str] = []
    elsewhere: list[str] = []

    def console(message: object) -> None:
        text = getattr(message, "text", "")
        if "Content Security Policy" in text and not any(k in text for k in KNOWN_BLOCKED):
            violations.append(text)

    page.on("console", console)
    host = urlsplit(base).netloc

    def finished(request: object) -> None:
        url = getattr(request, "url", "")
        if url.startswith("http") and urlsplit(url).netloc != host:
            elsewhere.append(url)

    page.on("requestfinished", finished)
    return violations, elsewhere


def test_swagger_ui_renders_offline_under_the_policy(shared_site: Site) -> None:
    page = shared_site.page()
    violations, elsewhere = _watch(page, shared_site.base)
    page.goto(f"{shared_site.base}/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 50
    assert violations == []
    assert elsewhere == []


def test_redoc_renders_offline_under_the_policy(shared_site: Site) -> None:
    page = shared_site.page()
    violations, elsewhere = _watch(page, shared_site.base)
    page.goto(f"{shared_site.base}/redoc")
    page.get_by_role("heading", name="Minqing 民情").first.wait_for()
    assert page.get_by_text("Something went wrong").count() == 0
    assert violations == []
    assert elsewhere == []


def test_the_ledger_bars_and_the_minutes_draw_without_inline_styles(shared_site: Site) -> None:
    app = shared_site.server.app
    staff = shared_site.user(
        f"csp-{shared_site.server.event_count()}", [Role.STAFF, Role.COMMITTEE, Role.SUPERVISOR]
    )
    for _ in range(2):
        app.raise_concern(STAFF, draft())
    chair = shared_site.member("张红梅", [])
    meeting = app.schedule_meeting(
        STAFF,
        "主题党日",
        MeetingKind.THEMATIC_PARTY_DAY,
        datetime.now(app.zone) + timedelta(days=1),
        "",
        UUID(chair),
        [UUID(chair)],
    )
    page = shared_site.page(staff.name)
    violations, _ = _watch(page, shared_site.base)
    at = shared_site.server.event_count()
    longest = "Math.max(0, ...[...document.querySelectorAll('svg.bar-track rect')]"
    longest += ".map(r => r.getBoundingClientRect().width))"
    drawn = 0.0
    for _ in range(50):  # the read model follows the log within a moment
        page.goto(f"{shared_site.base}/ui/ledger?group_by=month&at={at}")
        drawn = page.evaluate(longest)
        if drawn > 0:
            break
        page.wait_for_timeout(200)
    assert drawn > 100  # the longest bar spans the track: drawn by the rect's width
    page.goto(f"{shared_site.base}/ui/meetings/{meeting.id}/minutes")
    margin = page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth")
    assert margin != "none"  # ui.css applied
    assert violations == []
