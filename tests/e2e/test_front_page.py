"""`GET /`: a bilingual front page linking every door a newcomer looks for; JSON clients get
the same links as JSON."""

from __future__ import annotations

import re

import httpx

from api.routes.front import wants_json
from tests.conftest import Server
from tests.e2e.ui_client import text_of

DOORS = {
    "/ui/": ("网页界面", "Web UI"),
    "/ui/track": ("进度查询", "Track a concern"),
    "/ui/public/achievements": ("成果库", "Achievement library"),
    "/ui/public/commitments": ("承诺公开栏", "Commitments board"),
    "/ui/public/board": ("居务公开栏", "Public board"),
    "/docs": ("接口文档", "API documentation"),
    "/openapi.json": ("OpenAPI", "OpenAPI"),
    "/healthz": ("存活检查", "Liveness"),
    "/readyz": ("就绪检查", "Readiness"),
    "/metrics": ("监控指标", "Metrics"),
}


def test_the_root_is_a_bilingual_page_linking_the_ui_public_pages_docs_and_health(
    shared_server: Server,
) -> None:
    r = httpx.get(shared_server.base_url + "/", headers={"Accept": "text/html"}, timeout=30)

    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    hrefs = set(re.findall(r'href="([^"]+)"', r.text))
    text = text_of(r.text)
    for href, (zh, en) in DOORS.items():
        assert href in hrefs
        assert zh in text
        assert en in text
    # Styled by the UI's stylesheet: no inline style or script for the CSP to block.
    assert "/ui/static/ui.css" in hrefs
    assert "<script" not in r.text
    assert "<style" not in r.text
    assert "style=" not in r.text
    # Every door it shows is open: none of its links leads nowhere.
    with httpx.Client(base_url=shared_server.base_url, timeout=30, follow_redirects=True) as c:
        for href in hrefs - {"/"}:
            assert c.get(href).status_code == 200, href


def test_a_browser_and_curl_get_the_page_a_json_client_gets_the_links_as_json(
    shared_server: Server,
) -> None:
    url = shared_server.base_url + "/"
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for accept in (browser, {"Accept": "*/*"}, {}):
        kind = httpx.get(url, headers=accept, timeout=30).headers["content-type"]
        assert kind.startswith("text/html"), accept
    r = httpx.get(url, headers={"Accept": "application/json"}, timeout=30)

    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert "Accept" in r.headers["vary"]
    body = r.json()
    links = {link["href"]: link for link in body["links"]}
    for href, (zh, en) in DOORS.items():
        assert zh in links[href]["title"]["zh"]
        assert en in links[href]["title"]["en"]


def test_json_wins_only_when_the_client_prefers_it() -> None:
    assert wants_json("application/json")
    assert wants_json("application/json, text/html;q=0.5")
    assert not wants_json("text/html, application/json")
    assert not wants_json("application/json;q=0.5, text/html")
    assert not wants_json("*/*")
    assert not wants_json("")
    assert not wants_json("application/json;q=oops")
