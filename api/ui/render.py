"""Rendering pages: the Jinja2 environment, the language, labels, dates and the layout's data."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.ui import data, inbox
from api.ui.messages import CATALOGUE, DEFAULT_LANG, HTML_LANG, LANGS, translate
from api.ui.sessions import UiSession
from domain.lifecycle import Action, Status
from domain.meeting import ItemStatus, MeetingKind, MeetingStatus
from domain.service import MemberKind, Rating
from domain.supervision import Grade
from domain.time_limits import Colour
from domain.time_limits import Stage as LimitStage
from domain.vocabulary import (
    STAFF_ROLES,
    Category,
    Channel,
    DutyRole,
    Labelled,
    Library,
    PriorityVisit,
    Role,
    Satisfaction,
)
from domain.voting import Ballot, Choice, Outcome
from domain.work_calendar import DayKind
from projections.achievements import Stage
from projections.commitments import Stage as CommitmentStage

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
COOKIE_PATH = "/ui"
LANG_COOKIE = "minqing_lang"
SESSION_COOKIE = "minqing_session"
# Forms shown before sign-in (the sign-in form, the resident's feedback) carry this cookie's
# value as their CSRF token: a cross-site page can neither read nor set it.
FORM_COOKIE = "minqing_form"

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every value is escaped unless a template says otherwise
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

ENUMS: Mapping[str, type[Labelled]] = {
    "status": Status,
    "action": Action,
    "category": Category,
    "library": Library,
    "channel": Channel,
    "priority_visit": PriorityVisit,
    "duty_role": DutyRole,
    "satisfaction": Satisfaction,
    "role": Role,
    "meeting_kind": MeetingKind,
    "meeting_status": MeetingStatus,
    "item_status": ItemStatus,
    "choice": Choice,
    "outcome": Outcome,
    "ballot": Ballot,
    "stage": Stage,
    "day_kind": DayKind,
    "limit_stage": LimitStage,
    "colour": Colour,
    "commitment": CommitmentStage,
    "member_kind": MemberKind,
    "rating": Rating,
    "grade": Grade,
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def lang_of(request: Request) -> str:
    """The page's language: `?lang=` first, then the cookie, then Chinese."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGS:
            return candidate
    return DEFAULT_LANG


def label(lang: str, kind: str, value: object) -> str:
    """A domain value's label in `lang` (a value the vocabulary lacks shows as itself)."""
    if value is None or value == "":
        return "—"
    try:
        member = ENUMS[kind](str(value))
    except ValueError:
        return str(value)
    return member.zh if lang == "zh" else member.en


def options(kind: str) -> list[str]:
    """Every value of a domain vocabulary, in declaration order."""
    return [m.value for m in ENUMS[kind]]


def as_date(value: date | str | None) -> date | None:
    """A date from a date, a datetime or their ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)


def fmt_date(value: date | str | None, lang: str) -> str:
    """A date the way the reader writes it: 2026年3月3日, or 3 Mar 2026."""
    d = as_date(value)
    if d is None:
        return "—"
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def month_label(month: str | None, lang: str) -> str:
    """2026-03 as 2026年3月 or Mar 2026 (the ledger's and the dashboard's months)."""
    if not month:
        return "—"
    year, number = month.split("-")
    return f"{year}年{int(number)}月" if lang == "zh" else f"{_MONTHS[int(number) - 1]} {year}"


def fmt_datetime(value: datetime | str | None, lang: str, zone: ZoneInfo) -> str:
    """A moment in the community's time zone, in the reader's way of writing dates."""
    if value is None or value == "":
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return f"{fmt_date(moment.date(), lang)} {moment:%H:%M}"


@dataclass(frozen=True)
class NavItem:
    """One link of the main navigation."""

    key: str
    href: str


def navigation(session: UiSession | None) -> list[NavItem]:
    """The pages the signed-in roles may use (the public ones for everybody)."""
    items: list[NavItem] = []
    if session is not None:
        roles = session.principal.roles
        member = session.principal.member_id is not None
        items.append(NavItem("nav.home", "/ui/"))
        items.append(NavItem("nav.inbox", "/ui/inbox"))
        if roles & {Role.COLLECTOR, Role.STAFF}:
            items.append(NavItem("nav.record", "/ui/record"))
            items.append(NavItem("nav.outbox", "/ui/outbox"))
        if roles & {Role.GRID_LEADER, Role.STAFF, Role.ADMIN}:
            items.append(NavItem("nav.triage", "/ui/triage"))
        if roles & {Role.COMMITTEE, Role.CHAIR, Role.STAFF}:
            items.append(NavItem("nav.committee", "/ui/committee"))
        if roles & {Role.COMMITTEE, Role.CHAIR, Role.MEMBER, Role.STAFF, Role.SUPERVISOR}:
            items.append(NavItem("nav.meetings", "/ui/meetings"))
        if member and roles & {Role.MEMBER, Role.CHAIR}:
            items.append(NavItem("nav.vote", "/ui/vote"))
        if member:
            items.append(NavItem("nav.tasks", "/ui/tasks"))
        if roles & (STAFF_ROLES | {Role.SUPERVISOR}):
            items.append(NavItem("nav.concerns", "/ui/concerns"))
            items.append(NavItem("nav.ledger", "/ui/ledger"))
            items.append(NavItem("nav.calendar", "/ui/calendar"))
            items.append(NavItem("nav.dashboard", "/ui/dashboard"))
            items.append(NavItem("nav.evaluations", "/ui/evaluations"))
            items.append(NavItem("nav.hotspots", "/ui/hotspots"))
            items.append(NavItem("nav.scorecards", "/ui/scorecards"))
        if roles & {Role.ADMIN, Role.STAFF}:
            items.append(NavItem("nav.places", "/ui/places"))
        if Role.SUPERVISOR in roles:
            items.append(NavItem("nav.supervision", "/ui/supervision"))
    items.append(NavItem("nav.achievements", "/ui/public/achievements"))
    items.append(NavItem("nav.commitments", "/ui/public/commitments"))
    items.append(NavItem("nav.track", "/ui/track"))
    return items


# Query parameters that belong to one visit of a page (the message after an action, the
# position to wait for), not to the page itself.
_ONCE = ("lang", "done", "at", "concern")


def current_url(request: Request) -> str:
    """The address of the page being shown, fit to come back to with a GET: the request's
    own for a GET; for a page answering a POST (a refused form shown again) the page the
    form came from, else the same-site page that sent the browser here, else home."""
    if request.method in ("GET", "HEAD"):
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in _ONCE]
        return request.url.path + (f"?{urlencode(query)}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/ui"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/ui/"


def _with_lang(url: str, lang: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _ONCE]
    query.append(("lang", lang))
    return f"{parts.path}?{urlencode(query)}"


def flash(request: Request, session: UiSession | None, lang: str) -> str | None:
    """The message after an action (`?done=`), naming the concern it was done on."""
    done = request.query_params.get("done")
    if not done:
        return None
    if done in {a.value for a in Action}:
        what = label(lang, "action", done)
    elif f"done.{done}" in CATALOGUE[lang]:
        what = translate(lang, f"done.{done}")
    else:
        return translate(lang, "done.recorded")
    subject = None
    if session is not None:
        # Looked up, never taken from the address: a link cannot make the page say anything.
        subject = data.subject(
            request.app.state.minqing, session.principal, request.query_params.get("concern")
        )
    if subject is None:
        return translate(lang, "done", what=what)
    return translate(lang, "done.concern", what=what, **subject)


def _counts(request: Request, session: UiSession | None) -> dict[str, int]:
    # The navigation's counts; a page (an error page above all) renders without them.
    if session is None:
        return {}
    try:
        return inbox.nav_counts(request.app.state.minqing, session.principal)
    except Exception:
        return {}


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    session: UiSession | None = None,
    status: int = 200,
    here: str | None = None,
) -> HTMLResponse:
    """A page: the template with the layout's data; remembers a language chosen by `?lang=`.

    `here` is the address the page stands for (see current_url): forms on it send the
    browser back there, and the language switch reloads it.
    """
    lang = lang_of(request)
    here = here or current_url(request)
    zone: ZoneInfo = request.app.state.minqing.zone
    form_token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    other = "en" if lang == "zh" else "zh"

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    data: dict[str, Any] = {
        "request": request,
        "path": request.url.path,
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "other_lang": other,
        "other_html_lang": HTML_LANG[other],
        "switch_url": _with_lang(here, other),
        "here": here,
        "t": t,
        "label": lambda kind, value: label(lang, kind, value),
        "options": options,
        "fmt_date": lambda value: fmt_date(value, lang),
        "fmt_dt": lambda value: fmt_datetime(value, lang, zone),
        "session": session,
        "principal": session.principal if session else None,
        "csrf": session.csrf if session else form_token,
        "nav": navigation(session),
        "nav_counts": _counts(request, session),
        "flash": flash(request, session, lang),
        "errors": None,
        "values": {},
        "form_errors": {},
        "form_values": {},
        **(context or {}),
    }
    html = ENV.get_template(template).render(data)
    response = HTMLResponse(html, status_code=status)
    secure = request.url.scheme == "https"
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            path=COOKIE_PATH,
            samesite="lax",
            secure=secure,
        )
    if FORM_COOKIE not in request.cookies:
        response.set_cookie(
            FORM_COOKIE, form_token, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure
        )
    return response


def catalogue_keys() -> set[str]:
    """Every message key (for tests and templates)."""
    return set(CATALOGUE[DEFAULT_LANG])
