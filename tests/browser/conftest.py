"""Browser tests: Playwright for Python driving Debian's Chromium against a real server.

Chromium is never downloaded (`playwright install` is not used): the tests need the
`chromium` package at /usr/bin/chromium (or MINQING_CHROMIUM). Without it they skip with
the reason, unless MINQING_REQUIRE_BROWSER=1 (set by .ci/run), when they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from api.ui import passwords
from domain.principal import Principal
from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

CHROMIUM = os.environ.get("MINQING_CHROMIUM", "/usr/bin/chromium")
# The network is closed: nothing in the browser may reach out on its own.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
PHONE: ViewportSize = {"width": 360, "height": 780}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
TIMEOUT_MS = 20_000


def _problem() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright for Python is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser tests; closed with them, because Playwright's
    sync API keeps an event loop running on the main thread while it is open (and tests
    after these call asyncio.run)."""
    problem = _problem()
    if problem:
        if os.environ.get("MINQING_REQUIRE_BROWSER") == "1":
            pytest.fail(problem + " (MINQING_REQUIRE_BROWSER=1)")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Site:
    """A real server, and browsers signed in to it as the people of the worked story."""

    server: Server
    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    # What the Content-Security-Policy blocked on any page: every test ends with none.
    csp_violations: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.server.base_url

    def user(
        self,
        name: str,
        roles: list[Role],
        grids: list[str] | None = None,
        member: str | None = None,
    ) -> Principal:
        """A principal with the test password."""
        app = self.server.app
        p = app.accounts.add(name, roles, grids, uuid.UUID(member) if member else None)
        passwords.set_password(app.db, app.accounts, name, PASSWORD)
        return p

    def member(self, name: str, duty: list[Any], votes: bool = True, grid: str = "2") -> str:
        """A registered member's id."""
        admin = self.server.app.accounts.find("admin")
        return self.server.app.register_member(admin, name, [grid], duty, votes).id

    def page(
        self, name: str | None = None, *, phone: bool = False, lang: str | None = None
    ) -> Page:
        """A page in a browser context of its own, signed in as `name` (or not at all)."""
        context = self.browser.new_context(viewport=PHONE if phone else DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        # Any script the page runs that opens a dialog (alert) fails the test.
        page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))
        page.on("console", self._note_csp)
        if lang:
            page.goto(f"{self.base}/ui/track?lang={lang}")
        if name:
            sign_in(page, self.base, name)
        return page

    def _note_csp(self, message: Any) -> None:
        text = message.text
        # ReDoc's logo from Redocly's CDN is blocked on purpose (and then hidden).
        if "Content Security Policy" in text and "cdn.redoc.ly" not in text:
            self.csp_violations.append(text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        violations, self.csp_violations = self.csp_violations, []
        assert violations == [], "the Content-Security-Policy blocked something"


def sign_in(page: Page, base: str, name: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would."""
    page.goto(f"{base}/ui/sign-in")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("form[action='/ui/sign-in'] button[type=submit]")
    page.wait_for_url(f"{base}/ui/")


def _site(
    request: pytest.FixtureRequest, browser: Browser, tmp: Path, backend: str
) -> Iterator[Site]:
    for url in _database(backend, request, tmp):
        for server in start_server(url, tmp):
            site = Site(server, browser)
            try:
                yield site
            finally:
                site.close()


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, browser: Browser, tmp_path: Path) -> Iterator[Site]:
    """A fresh server and database for one browser test, on each backend."""
    yield from _site(request, browser, tmp_path, request.param)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_site(
    request: pytest.FixtureRequest, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """One server per module and backend, for browser tests that make their own data."""
    yield from _site(request, browser, tmp_path_factory.mktemp("site"), request.param)
