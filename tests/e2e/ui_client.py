"""Driving the web UI over HTTP with httpx, as a browser would: cookies, forms, CSRF."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from api.ui import passwords
from domain.principal import Principal
from domain.vocabulary import Role
from tests.conftest import Server

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def ui_user(
    server: Server,
    roles: list[Role],
    grids: list[str] | None = None,
    member: str | None = None,
    name: str | None = None,
) -> Principal:
    """A principal who can sign in with PASSWORD."""
    name = name or f"u-{uuid.uuid4().hex[:10]}"
    p = server.app.accounts.add(name, roles, grids, uuid.UUID(member) if member else None)
    passwords.set_password(server.app.db, server.app.accounts, name, PASSWORD)
    return p


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(page)
    assert found, "the page has no form with a CSRF token"
    return html.unescape(found.group(1))


def browser(server: Server) -> httpx.Client:
    """A client that keeps cookies and does not follow redirects (tests look at them)."""
    return httpx.Client(base_url=server.base_url, timeout=30)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Post the sign-in form with the token of the form page."""
    token = csrf_of(client.get("/ui/sign-in").text)
    return client.post(
        "/ui/sign-in", data={"csrf": token, "name": name, "password": password, "next": "/ui/"}
    )


@contextmanager
def signed_in(server: Server, principal: Principal) -> Iterator[httpx.Client]:
    """A client signed in as `principal`, closed at the end of the block."""
    with browser(server) as client:
        r = sign_in(client, principal.name)
        assert r.status_code == 303, r.text
        yield client


def text_of(page: str) -> str:
    """The page's text without tags (for 'the page says …' assertions)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))
