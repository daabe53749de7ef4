"""The concern page: details, timeline in words, and the caller's actions as forms, at
/ui/concerns/{id or reference}; each action posts to /ui/concerns/{id}/act/{action}."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.ui import data, timeline
from api.ui.actions import perform
from api.ui.forms import Errors, errors_of
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import PostedDep, SessionDep, UiRoute, minqing, redirect, safe_next
from application import disclosure
from application.minqing import Minqing
from domain.concern import Concern
from domain.errors import DomainError, NotFound
from domain.lifecycle import Action
from domain.permissions import check_view

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
_REFERENCE = re.compile(r"MQ-\d{4}-\d{6,}")


def find_concern(app: Minqing, raw: str) -> Concern:
    """A concern by id or reference (MQ-2026-000123)."""
    text = raw.strip()
    if _REFERENCE.fullmatch(text.upper()):
        return app.concern_by_reference(text.upper())
    try:
        return app.get_concern(UUID(text))
    except ValueError:
        raise NotFound("concern", raw) from None


def people(app: Minqing, members: dict[str, str]) -> dict[str, str]:
    """Principal id -> the name to show: the member's name when linked to one."""
    found = {}
    for p in app.accounts.all():
        member = members.get(str(p.member_id)) if p.member_id else None
        found[p.id] = f"{member} ({p.name})" if member else p.name
    return found


def meeting_titles(app: Minqing, entries: list[dict[str, Any]]) -> dict[str, str]:
    """Titles of the meetings a history mentions."""
    titles: dict[str, str] = {}
    for e in entries:
        meeting = (e.get("data") or {}).get("meeting_id")
        if meeting and meeting not in titles:
            try:
                titles[meeting] = app.get_meeting(UUID(meeting)).title
            except (ValueError, DomainError):
                titles[meeting] = meeting
    return titles


def concern_page(
    request: Request,
    session: UiSession,
    concern: Concern,
    *,
    form_errors: dict[str, Errors] | None = None,
    form_values: dict[str, dict[str, str]] | None = None,
    status: int = 200,
) -> Response:
    """Render the concern page (also after a refused action, with its errors)."""
    app = minqing(request)
    principal = session.principal
    check_view(principal, concern)
    # Reads of the resident's personal data are logged before the page is made.
    view = disclosure.disclose(app, principal, concern, app.concern_view(concern, principal))
    members = data.members(app)
    member_names = data.names(members)
    entries = app.history(concern.id)
    rows = timeline.rows(
        entries,
        lang_of(request),
        people(app, member_names),
        member_names,
        meeting_titles(app, entries),
    )
    card = {
        "id": view["id"],
        "version": view["version"],
        "allowed_actions": view["allowed_actions"],
        "duty_default": data.duty_default(view["category"]),
    }
    shortlisting = Action.SHORTLIST.value in view["allowed_actions"]
    # A refusal whose form is no longer offered (the concern moved on) shows above them.
    orphans = [
        errors
        for key, errors in (form_errors or {}).items()
        if key.partition(":")[2] not in view["allowed_actions"]
    ]
    context = {
        "c": view,
        "card": card,
        "owner_name": member_names.get(view["owner"] or "", view["owner"] or ""),
        "timeline": rows,
        "members": members,
        "meetings": data.upcoming_meetings(app) if shortlisting else [],
        "form_errors": form_errors or {},
        "form_values": form_values or {},
        "orphan_errors": orphans,
    }
    return render(request, "concern.html", context, session=session, status=status)


@router.get("/concerns/{ref}")
def show(request: Request, ref: str, session: SessionDep) -> Response:
    """One concern: details, timeline and the caller's actions."""
    return concern_page(request, session, find_concern(minqing(request), ref))


@router.post("/concerns/{ref}/act/{action}")
def act(request: Request, ref: str, action: str, posted: PostedDep) -> Response:
    """Do one action from its form; on refusal show the form again with the API's message."""
    app = minqing(request)
    concern = find_concern(app, ref)
    try:
        chosen = Action(action)
    except ValueError:
        raise NotFound("action", action) from None
    form = posted.form
    version = int(form.get("version")) if form.get("version").isdigit() else None
    try:
        result = perform(app, posted.session.principal, concern.id, chosen, form, version)
    except DomainError as exc:
        key = f"{concern.id}:{chosen.value}"
        errors = errors_of(exc)
        fresh = app.get_concern(concern.id)
        return concern_page(
            request,
            posted.session,
            fresh,
            form_errors={key: errors},
            form_values={key: form.flat()},
            status=errors.status,
        )
    target = safe_next(form.get("next"), f"/ui/concerns/{concern.id}")
    return redirect(target, done=chosen.value, at=result.position)
