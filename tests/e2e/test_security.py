"""What every response carries and what the server believes of a request, over a real
loopback server on both stores: security headers (HSTS only over HTTPS), /docs and /redoc
served from the server itself, forwarded headers believed only from trusted proxies (the
tracking rate limit cannot be dodged with a new X-Forwarded-For), and no tracking code in
uvicorn's access log."""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import uvicorn

from api.main import create_app
from application.settings import Settings
from tests.conftest import BACKENDS, Server, _database, _free_port, start_server

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "ui" / "templates"


@pytest.fixture(params=BACKENDS)
def behind_proxy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server that trusts the loopback proxy's forwarded headers, with a low rate limit."""
    for url in _database(request.param, request, tmp_path):
        yield from start_server(url, tmp_path, trusted_proxies="127.0.0.1", track_rate_limit=3)


@pytest.fixture(params=BACKENDS)
def direct(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server with the defaults (no trusted proxy), with a low rate limit."""
    for url in _database(request.param, request, tmp_path):
        yield from start_server(url, tmp_path, track_rate_limit=3)


# -- headers ------------------------------------------------------------------------------

PATHS = [
    "/healthz",  # JSON
    "/ui/sign-in",  # a page
    "/ui/static/ui.css",  # a static file
    "/docs",
    "/redoc",
    "/openapi.json",
    "/api/v1/members",  # 401, JSON error
    "/no-such-page",  # 404
]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(shared_server: Server, path: str) -> None:
    with httpx.Client(base_url=shared_server.base_url) as client:
        r = client.get(path)
    policy = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP


def test_hsts_when_a_trusted_proxy_says_the_request_came_over_https(
    behind_proxy: Server,
) -> None:
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=behind_proxy.base_url) as client:
        assert (
            "max-age=" in client.get("/healthz", headers=https).headers["Strict-Transport-Security"]
        )
        assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_no_hsts_when_a_client_not_trusted_claims_https(shared_server: Server) -> None:
    # Nobody is trusted by default: the header from a client is ignored.
    with httpx.Client(base_url=shared_server.base_url) as client:
        r = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in r.headers


def test_no_template_has_an_inline_script_event_handler_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", text), template.name
        assert not re.search(r"<[a-z][^>]*\sstyle\s*=", text), template.name
        assert "<style" not in text, template.name


# -- the documentation, offline -----------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(found[name] or "")
        if tag == "script" and not found.get("src"):
            self.inline_scripts += 1
        if tag == "style" or "style" in found:
            self.inline_styles += 1


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_documentation_and_every_asset_it_loads_come_from_the_server(
    shared_server: Server, page: str
) -> None:
    with httpx.Client(base_url=shared_server.base_url) as client:
        r = client.get(page)
        assert r.status_code == 200
        links = _Links()
        links.feed(r.text)
        assert links.inline_scripts == 0
        assert links.inline_styles == 0
        assert links.urls
        for url in links.urls:
            absolute = urljoin(shared_server.base_url + page, url)
            assert urlsplit(absolute).netloc == urlsplit(shared_server.base_url).netloc, url
            asset = client.get(absolute)
            assert asset.status_code == 200, url
            assert len(asset.content) > 0, url
        assert "cdn" not in r.text.lower()


# -- forwarded headers and the tracking rate limit ----------------------------------------


def test_a_new_x_forwarded_for_each_time_does_not_dodge_the_rate_limit(direct: Server) -> None:
    with httpx.Client(base_url=direct.base_url) as client:
        answers = [
            client.get(
                "/api/v1/track/ABCDEFGHJKMN", headers={"X-Forwarded-For": f"203.0.113.{n}"}
            ).status_code
            for n in range(5)
        ]
    assert answers == [404, 404, 404, 429, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    behind_proxy: Server,
) -> None:
    def ask(client: httpx.Client, address: str) -> int:
        headers = {"X-Forwarded-For": address}
        return client.get("/api/v1/track/ABCDEFGHJKMN", headers=headers).status_code

    with httpx.Client(base_url=behind_proxy.base_url) as client:
        assert [ask(client, "203.0.113.7") for _ in range(4)] == [404, 404, 404, 429]
        assert ask(client, "198.51.100.9") == 404  # another resident behind the same proxy


# -- the access log -----------------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_tracking_codes_never_reach_the_access_log(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'minqing.db'}",
        master_key=base64.b64encode(os.urandom(32)).decode(),
        admin_token_file=tmp_path / "admin-token",
        audit_signing_key_file=tmp_path / "audit-signing.key",
        embedded_workers=False,
    )
    port = _free_port()
    # As `minqing serve` runs it: the access log on, at level info.
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="info",
            access_log=True,
            proxy_headers=False,
        )
    )
    lines = _Lines()
    logging.getLogger("uvicorn.access").addHandler(lines)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.02)
        secret = "QWERTYPASDFG"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            client.get(f"/api/v1/track/{secret}")
            client.post(f"/api/v1/track/{secret}/feedback", json={})
            client.get(f"/ui/track/{secret}")
            client.get("/ui/track", params={"code": secret})
            client.get(f"/open311/v2/tokens/{secret}.json")
            client.get("/healthz")
        deadline = time.monotonic() + 20
        while len(lines.lines) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        logging.getLogger("uvicorn.access").removeHandler(lines)
    assert len(lines.lines) >= 6, lines.lines
    assert not [line for line in lines.lines if secret in line]
    assert any("/api/v1/track/***" in line for line in lines.lines)
    assert any("/ui/track/***" in line for line in lines.lines)
    assert any("/open311/v2/tokens/***" in line for line in lines.lines)
    assert any("/healthz" in line for line in lines.lines)
