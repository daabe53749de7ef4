"""What every page shares: the signed-in session, posted forms and their CSRF check, role
checks, safe redirects (and GET on a form's address), and the route class that turns
refusals into HTML pages."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from api.errors import RateLimited
from api.ui import sessions
from api.ui.refusals import FormInvalid, Problem, say
from api.ui.render import FORM_COOKIE, SESSION_COOKIE, lang_of, render
from api.ui.sessions import UiSession
from application import requests
from application.minqing import Minqing
from domain.errors import Forbidden, Invalid, NotFound
from domain.photos import MAX_PHOTO_BYTES
from domain.vocabulary import Role


class SignInRequired(Exception):
    """The page needs a signed-in session and the request has none."""


class CsrfRefused(Exception):
    """A form was posted without the CSRF token of its session (or of its form cookie)."""


def minqing(request: Request) -> Minqing:
    """The process's one Minqing application."""
    app: Minqing = request.app.state.minqing
    return app


def find_session(request: Request) -> UiSession | None:
    """The live session named by the request's cookie, if any."""
    app = minqing(request)
    found = sessions.find(app.db, app.accounts, request.cookies.get(SESSION_COOKIE))
    if found is not None:
        requests.note_principal(found.principal.id)  # for the request's log line
    return found


def current_session(request: Request) -> UiSession:
    """The signed-in session; without one the browser is sent to the sign-in page."""
    session = find_session(request)
    if session is None:
        raise SignInRequired
    return session


SessionDep = Annotated[UiSession, Depends(current_session)]
MaybeSessionDep = Annotated[UiSession | None, Depends(find_session)]


@dataclass(frozen=True)
class Form:
    """A posted form's fields (every value a string; repeated names kept as lists)."""

    values: dict[str, list[str]] = field(default_factory=dict)
    # Files of a multipart form by field: their bytes, read no further than a photo's limit
    # and one byte (so one too big is known to be).
    files: dict[str, list[bytes]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """The field's first value, or `default`."""
        found = self.values.get(name)
        return found[0] if found else default

    def getlist(self, name: str) -> list[str]:
        """Every value of a repeated field."""
        return list(self.values.get(name, []))

    def has(self, name: str) -> bool:
        """True when the field was posted."""
        return name in self.values

    def flat(self) -> dict[str, str]:
        """Each field's first value (to show a form again with what was typed)."""
        return {k: v[0] for k, v in self.values.items() if v}


async def read_form(request: Request) -> Form:
    """The posted urlencoded or multipart form: text fields, and the files chosen."""
    raw = await request.form()
    values: dict[str, list[str]] = {}
    files: dict[str, list[bytes]] = {}
    for key, value in raw.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
        elif value.filename:  # a file input left empty sends a part with no name
            files.setdefault(key, []).append(await value.read(MAX_PHOTO_BYTES + 1))
    return Form(values, files)


def _same(given: str, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given, expected)


@dataclass(frozen=True)
class Posted:
    """A form posted by a signed-in session, its CSRF token checked."""

    session: UiSession
    form: Form


async def posted(request: Request) -> Posted:
    """The posted form of a signed-in session; 403 unless it echoes the session's token."""
    form = await read_form(request)
    session = await run_in_threadpool(find_session, request)
    if session is None:
        raise SignInRequired
    if not _same(form.get("csrf"), session.csrf):
        raise CsrfRefused
    return Posted(session, form)


async def posted_anonymously(request: Request) -> Form:
    """A form posted without signing in; 403 unless it echoes the form cookie's token."""
    form = await read_form(request)
    if not _same(form.get("csrf"), request.cookies.get(FORM_COOKIE, "")):
        raise CsrfRefused
    return form


PostedDep = Annotated[Posted, Depends(posted)]
AnonymousFormDep = Annotated[Form, Depends(posted_anonymously)]


def need(session: UiSession, *roles: Role, member: bool = False) -> None:
    """Refuse (403) a session holding none of `roles` (or, with `member`, not a member)."""
    p = session.principal
    if p.roles & set(roles) or (member and p.member_id is not None):
        return
    names = ", ".join(sorted(r.value for r in roles))
    raise Forbidden(f"this page needs one of the roles {names}")


def safe_next(target: str | None, default: str) -> str:
    """A redirect target inside the UI only (no other host, no scheme, no `//`)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui") or "\\" in target:
        return default
    return target


def redirect(target: str, **query: object) -> RedirectResponse:
    """303 See Other to `target`, adding `query` (e.g. done=refer, at=position)."""
    extra = urlencode({k: str(v) for k, v in query.items() if v is not None})
    if extra:
        target += ("&" if "?" in target else "?") + extra
    return RedirectResponse(target, status_code=303)


def form_address(router: APIRouter, path: str, page: Callable[[Request, UiSession], str]) -> None:
    """Answer GET on a form's own address with 303 See Other to the page the form is on.

    A refused form is shown again at the address it was posted to, so a reload, a bookmark
    or the back button asks for that address with GET (405 without this). `page` gives the
    page's address from the request's path parameters, refusing (403, 404) as that page
    does whoever may not see it.
    """

    def form_page(request: Request, session: SessionDep) -> Response:
        """A form's address asked for with GET: the page the form is on."""
        return redirect(page(request, session))

    router.add_api_route(path, form_page, methods=["GET"])


def error_page(request: Request, status: int, key: str, detail: str | None = None) -> Response:
    """The error page in the reader's language, with the API's own message as detail."""
    session = None
    try:
        session = find_session(request)
    except Exception:  # the error page must render even if the store is down
        session = None
    return render(
        request, "error.html", {"key": key, "detail": detail}, session=session, status=status
    )


def _problem(error: dict[str, Any]) -> Problem:
    # ("query", "at") -> "at": the parameter by its own name, as the page's words name it.
    loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
    return Problem(
        ".".join(loc) or "query",
        str(error.get("type", "")),
        str(error.get("msg", "")),
        error.get("ctx") or {},
    )


class UiRoute(APIRoute):
    """A route whose refusals become pages: sign-in redirect, 403, 404, 429."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except SignInRequired:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse(f"/ui/sign-in?next={quote(target)}", status_code=303)
            except CsrfRefused:
                return await run_in_threadpool(error_page, request, 403, "error.csrf")
            except Forbidden as exc:
                return await run_in_threadpool(
                    error_page, request, 403, "error.forbidden", str(exc)
                )
            except NotFound as exc:
                return await run_in_threadpool(
                    error_page, request, 404, "error.not_found", str(exc)
                )
            except Invalid as exc:  # a query or path parameter (api/params.py); forms
                # catch their own refusals and show them on the form
                detail = say(lang_of(request), exc)
                return await run_in_threadpool(error_page, request, 422, "error.invalid", detail)
            except RequestValidationError as exc:  # a parameter FastAPI checked (?at=abc)
                problems = [_problem(e) for e in exc.errors()]
                detail = say(lang_of(request), FormInvalid(problems))
                return await run_in_threadpool(error_page, request, 422, "error.invalid", detail)
            except RateLimited as exc:
                response = await run_in_threadpool(
                    error_page, request, 429, "error.rate_limited", str(exc)
                )
                response.headers["Retry-After"] = str(exc.retry_after)
                return response

        return handler
