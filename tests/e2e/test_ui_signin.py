"""Signing in to the web UI: sessions, cookies, CSRF, lock-out; the API keeps its tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.ui import sessions
from api.ui.render import FORM_COOKIE, SESSION_COOKIE
from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.e2e.ui_client import PASSWORD, browser, csrf_of, sign_in, signed_in, text_of, ui_user


def _set_cookie(response_headers: list[str], name: str) -> str:
    found = [h for h in response_headers if h.startswith(f"{name}=")]
    assert len(found) == 1, response_headers
    return found[0]


def test_signing_in_sets_an_httponly_lax_session_cookie_and_stores_only_its_hash(
    shared_server: Server,
) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with browser(shared_server) as client:
        r = sign_in(client, p.name)
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/"
        header = _set_cookie(r.headers.get_list("set-cookie"), SESSION_COOKIE)
        lowered = header.lower()
        assert "httponly" in lowered
        assert "samesite=lax" in lowered
        assert "path=/ui" in lowered
        assert "max-age=" in lowered
        assert "secure" not in lowered  # plain HTTP here; see the HTTPS test
        session_id = client.cookies[SESSION_COOKIE]
        rows = shared_server.app.db.fetchall(f"SELECT * FROM {sessions.TABLE}")  # noqa: S608
        assert rows
        assert all(session_id not in str(dict(row).values()) for row in rows)
        home = client.get("/ui/")
        assert home.status_code == 200
        assert p.name in home.text


@pytest.fixture(params=BACKENDS)
def behind_proxy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server whose TLS-terminating proxy is on loopback (MINQING_TRUSTED_PROXIES)."""
    for url in _database(request.param, request, tmp_path):
        yield from start_server(url, tmp_path, trusted_proxies="127.0.0.1")


def test_the_session_cookie_is_secure_when_the_request_came_over_https(
    behind_proxy: Server,
) -> None:
    p = ui_user(behind_proxy, [Role.COLLECTOR], ["2"])
    # The trusted proxy says the browser's request came over HTTPS.
    https = {"X-Forwarded-Proto": "https"}
    with browser(behind_proxy) as client:
        page = client.get("/ui/sign-in", headers=https)
        form_cookie = _set_cookie(page.headers.get_list("set-cookie"), FORM_COOKIE)
        assert "secure" in form_cookie.lower()
        # httpx keeps Secure cookies from plain-HTTP requests, as a browser would: send it.
        value = form_cookie.split(";")[0].split("=", 1)[1]
        r = client.post(
            "/ui/sign-in",
            data={"csrf": csrf_of(page.text), "name": p.name, "password": PASSWORD},
            headers={**https, "Cookie": f"{FORM_COOKIE}={value}"},
        )
        assert r.status_code == 303
        assert "secure" in _set_cookie(r.headers.get_list("set-cookie"), SESSION_COOKIE).lower()


def test_a_wrong_password_or_unknown_name_is_refused_alike_with_no_session(
    shared_server: Server,
) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with browser(shared_server) as client:
        wrong = sign_in(client, p.name, "not the password")
        unknown = sign_in(client, "nobody-by-this-name", "not the password")
        for r in (wrong, unknown):
            assert r.status_code == 401
            assert "用户名或密码不正确" in text_of(r.text)
            assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
        assert client.get("/ui/").status_code == 303  # still signed out


def test_five_failures_lock_the_name_even_against_the_right_password(
    shared_server: Server,
) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    other = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with browser(shared_server) as client:
        answers = [sign_in(client, p.name, f"guess {n}").status_code for n in range(5)]
        assert answers == [401, 401, 401, 401, 429]
        locked = sign_in(client, p.name, PASSWORD)
        assert locked.status_code == 429
        assert "已暂时锁定" in text_of(locked.text)
        assert "15 分钟" in text_of(locked.text)
        assert int(locked.headers["Retry-After"]) > 0
        assert client.get("/ui/").status_code == 303
        # The lock is per user name: another name signs in as usual.
        assert sign_in(client, other.name).status_code == 303


def test_someone_elsewhere_who_knows_the_name_cannot_lock_its_owner_out(
    shared_server: Server,
) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    # The attacker's requests come from another address (loopback has the whole 127/8).
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=shared_server.base_url, transport=elsewhere) as attacker:
        answers = [sign_in(attacker, p.name, f"guess {n}").status_code for n in range(6)]
        assert answers == [401, 401, 401, 401, 429, 429]
        assert sign_in(attacker, p.name, PASSWORD).status_code == 429  # locked there
    with browser(shared_server) as owner:
        assert sign_in(owner, p.name).status_code == 303


def test_forms_without_their_csrf_token_are_refused(shared_server: Server) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR, Role.STAFF], ["2"])
    q = ui_user(shared_server, [Role.COLLECTOR, Role.STAFF], ["2"])
    before = shared_server.event_count()
    with browser(shared_server) as anonymous:
        anonymous.get("/ui/sign-in")
        r = anonymous.post("/ui/sign-in", data={"name": p.name, "password": PASSWORD})
        assert r.status_code == 403
        assert SESSION_COOKIE not in anonymous.cookies
    form = {
        "n": "1",
        "grid": "2",
        "household": "5号楼2单元301",
        "visited_on": "2026-03-03",
        "c0.title": "路灯不亮",
        "c0.description": "东侧小路路灯坏了",
        "c0.category": "environment",
        "c0.library": "problem",
        "action": "save",
    }
    with signed_in(shared_server, p) as client, signed_in(shared_server, q) as other:
        missing = client.post("/ui/record", data=form)
        assert missing.status_code == 403
        assert "安全令牌" in text_of(missing.text)
        foreign = client.post("/ui/record", data={**form, "csrf": csrf_of(other.get("/ui/").text)})
        assert foreign.status_code == 403
        assert client.post("/ui/sign-out", data={}).status_code == 403
        assert client.get("/ui/").status_code == 200  # the refused sign-out did nothing
    assert shared_server.event_count() == before


def test_signing_out_ends_the_session_for_good(shared_server: Server) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with signed_in(shared_server, p) as client:
        stolen = client.cookies[SESSION_COOKIE]
        r = client.post("/ui/sign-out", data={"csrf": csrf_of(client.get("/ui/").text)})
        assert r.status_code == 303
        assert r.headers["location"].startswith("/ui/sign-in")
    with browser(shared_server) as replay:
        replay.cookies.set(SESSION_COOKIE, stolen)
        r = replay.get("/ui/record")
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/sign-in?next=/ui/record"


def test_an_expired_session_sends_the_browser_back_to_sign_in(shared_server: Server) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    with signed_in(shared_server, p) as client:
        assert client.get("/ui/").status_code == 200
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        shared_server.app.db.execute(
            f"UPDATE {sessions.TABLE} SET expires_at = ? WHERE principal_id = ?",  # noqa: S608
            (past, p.id),
        )
        assert client.get("/ui/").status_code == 303


def test_sign_in_sends_the_browser_on_only_inside_the_ui(shared_server: Server) -> None:
    p = ui_user(shared_server, [Role.COLLECTOR], ["2"])
    for target, expected in (
        ("/ui/record", "/ui/record"),
        ("//evil.example/ui/", "/ui/"),
        ("https://evil.example/ui/", "/ui/"),
        ("/api/v1/concerns", "/ui/"),
    ):
        with browser(shared_server) as client:
            token = csrf_of(client.get("/ui/sign-in").text)
            r = client.post(
                "/ui/sign-in",
                data={"csrf": token, "name": p.name, "password": PASSWORD, "next": target},
            )
            assert r.headers["location"] == expected


def test_bearer_tokens_keep_working_and_the_session_cookie_does_not_open_the_api(
    shared_server: Server,
) -> None:
    _, token = shared_server.principal([Role.STAFF])
    with shared_server.client(token) as api:
        assert api.get("/api/v1/queues/triage").status_code == 200
    q = ui_user(shared_server, [Role.STAFF])
    with signed_in(shared_server, q) as client:
        client.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE], path="/")
        r = client.get("/api/v1/queues/triage")
        assert r.status_code == 401
        assert r.json()["error"] == "unauthenticated"


def test_the_form_cookie_of_anonymous_forms_is_httponly(shared_server: Server) -> None:
    with browser(shared_server) as client:
        r = client.get("/ui/sign-in")
        header = _set_cookie(r.headers.get_list("set-cookie"), FORM_COOKIE).lower()
        assert "httponly" in header
        assert "samesite=lax" in header
