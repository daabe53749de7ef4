"""Sign-in, sign-out and the home page: /ui/, /ui/sign-in, /ui/sign-out."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.ui import passwords, sessions
from api.ui.forms import errors_of
from api.ui.passwords import Limits, SignInRefused
from api.ui.render import COOKIE_PATH, SESSION_COOKIE, lang_of, render
from api.ui.web import (
    AnonymousFormDep,
    MaybeSessionDep,
    PostedDep,
    SessionDep,
    UiRoute,
    minqing,
    redirect,
    safe_next,
)
from application.settings import Settings
from domain import text
from domain.errors import DomainError, Invalid

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/")
def home(request: Request, session: SessionDep) -> Response:
    """The signed-in user's roles, grids and the pages they can use."""
    member_name = None
    if session.principal.member_id is not None:
        try:
            member_name = minqing(request).get_member(session.principal.member_id).name
        except DomainError:  # a missing member only hides the line
            member_name = None
    return render(request, "home.html", {"member_name": member_name}, session=session)


@router.get("/sign-in")
def sign_in_page(request: Request, session: MaybeSessionDep, next: str | None = None) -> Response:
    """The sign-in form (a signed-in browser goes straight on)."""
    if session is not None:
        return redirect(safe_next(next, "/ui/"))
    return render(request, "sign_in.html", {"next": safe_next(next, "/ui/"), "name": ""})


@router.post("/sign-in")
def sign_in(request: Request, form: AnonymousFormDep) -> Response:
    """Check the name and password; start a session and set its cookie."""
    app = minqing(request)
    settings = _settings(request)
    name = form.get("name").strip()
    target = safe_next(form.get("next"), "/ui/")
    try:
        name = text.check_single_line(name)
    except text.TextRefused as refused_name:
        errors = errors_of(Invalid([("name", str(refused_name))]), lang_of(request))
        context = {"next": target, "name": "", "errors": errors}
        return render(request, "sign_in.html", context, status=errors.status)
    limits = Limits(
        settings.ui_lockout_failures,
        timedelta(minutes=settings.ui_lockout_minutes),
        settings.ui_lockout_name_failures,
    )
    # The address as api.security saw it: a trusted proxy's X-Forwarded-For, else the peer.
    address = request.client.host if request.client else ""
    try:
        principal = passwords.sign_in(
            app.db, app.accounts, name, form.get("password"), limits, address=address
        )
    except SignInRefused as refused:
        minutes = 0
        if refused.locked_until is not None:
            left = (refused.locked_until - datetime.now(UTC)).total_seconds()
            minutes = max(1, math.ceil(left / 60))
        context = {"next": target, "name": name, "refused": refused, "minutes": minutes}
        page = render(request, "sign_in.html", context, status=429 if minutes else 401)
        if minutes:
            page.headers["Retry-After"] = str(minutes * 60)
        return page
    sessions.end(app.db, request.cookies.get(SESSION_COOKIE))
    lifetime = timedelta(hours=settings.ui_session_hours)
    session_id, _ = sessions.start(app.db, principal, lifetime)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/sign-out")
def sign_out_page() -> Response:
    """Signing out is a form's (it needs its token); GET goes home."""
    return redirect("/ui/")


@router.post("/sign-out")
def sign_out(request: Request, posted: PostedDep) -> Response:
    """End the session and forget its cookie."""
    sessions.end(minqing(request).db, request.cookies.get(SESSION_COOKIE))
    response = redirect("/ui/sign-in", signed_out=1)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
