"""The concern page: details, timeline in words, and the caller's actions as forms, at
/ui/concerns/{id or reference}; each action posts to /ui/concerns/{id}/act/{action}, and
has a page of its own there (GET) for the lists, whose cards stay light.

After an action the browser goes back to the page the form was on (`next`: a queue, the
meeting room, the concern) with a message naming the concern; a refused form is shown
again on that same page, with its messages, so the corrected form goes on from there."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.ui import data, meeting_screens, queue_screen
from api.ui.actions import FIELDS, perform
from api.ui.concern_screen import concern_address, concern_page
from api.ui.data import find_concern
from api.ui.forms import Errors, errors_of
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import (
    Form,
    PostedDep,
    SessionDep,
    UiRoute,
    form_address,
    minqing,
    need,
    redirect,
    safe_next,
)
from domain.concern import Concern
from domain.errors import DomainError, Invalid, NotFound
from domain.lifecycle import Action
from domain.permissions import check_view
from domain.vocabulary import Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


@router.get("/concerns/{ref}")
def show(request: Request, ref: str, session: SessionDep) -> Response:
    """One concern: details, timeline and the caller's actions."""
    return concern_page(request, session, find_concern(minqing(request), ref))


def _action(raw: str) -> Action:
    try:
        chosen = Action(raw)
    except ValueError:
        raise NotFound("action", raw) from None
    if chosen not in FIELDS:
        raise NotFound("action", raw)
    return chosen


def action_page(
    request: Request,
    session: UiSession,
    concern: Concern,
    action: Action,
    next_url: str,
    *,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """One action's form on a page of its own (the lists link here), and where it goes
    back to; a refusal shows it again with its messages."""
    app = minqing(request)
    check_view(session.principal, concern)
    allowed = app.concern_view(concern, session.principal)["allowed_actions"]
    key = f"{concern.id}:{action.value}"
    card = {
        "id": str(concern.id),
        "version": concern.version,
        "allowed_actions": allowed,
        "duty_default": data.duty_default(concern.category),
        "reference": concern.reference,
        "title": concern.title,
        "status": concern.status,
        "excerpt": data.excerpt(concern.description),
        "open_milestones": data.open_milestones(concern.milestones),
    }
    context = {
        "card": card,
        "action": action.value,
        "offered": action.value in allowed,
        "next": next_url,
        "members": data.members(app) if action.value in _NEEDS_MEMBERS else [],
        "meetings": data.upcoming_meetings(app) if action is Action.SHORTLIST else [],
        "candidates": data.merge_candidates(app, concern) if action is Action.MERGE_INTO else [],
        "form_errors": {key: errors} if errors else {},
        "form_values": {key: values or {}},
    }
    here = f"/ui/concerns/{concern.id}/act/{action.value}?next={quote(next_url)}"
    status = errors.status if errors else 200
    return render(request, "action.html", context, session=session, status=status, here=here)


_NEEDS_MEMBERS = {Action.HANDLE_NOW.value, Action.ASSIGN.value, Action.REASSIGN.value}
_QUEUE = re.compile(r"^/ui/(triage|committee|tasks)$")
_MEETING = re.compile(r"^/ui/meetings/([0-9a-fA-F-]{36})$")
_CONCERN_PAGE = re.compile(r"^/ui/concerns/([^/]+)$")


@router.get("/concerns/{ref}/act/{action}")
def action_form(request: Request, ref: str, action: str, session: SessionDep) -> Response:
    """One action's form on its own page; afterwards the browser goes back to `next`."""
    concern = find_concern(minqing(request), ref)
    target = safe_next(request.query_params.get("next"), f"/ui/concerns/{concern.id}")
    return action_page(request, session, concern, _action(action), target)


def _shown_again(
    request: Request,
    session: UiSession,
    concern: Concern,
    action: Action,
    form: Form,
    errors: Errors,
) -> Response:
    """The refused form again, on the page it was posted from, with its messages."""
    next_url = safe_next(form.get("next"), f"/ui/concerns/{concern.id}")
    if form.get("shown_on") == "action":
        return action_page(
            request, session, concern, action, next_url, errors=errors, values=form.flat()
        )
    key = f"{concern.id}:{action.value}"
    form_errors, form_values = {key: errors}, {key: form.flat()}
    parts = urlsplit(next_url)
    cursor = parse_qs(parts.query).get("cursor", [None])[0]
    queue = _QUEUE.match(parts.path)
    if queue:
        return queue_screen.queue_page(
            request,
            session,
            queue.group(1),
            cursor,
            form_errors=form_errors,
            form_values=form_values,
            status=errors.status,
            here=next_url,
        )
    meeting = _MEETING.match(parts.path)
    if meeting:
        return meeting_screens.chair_page_of(
            request,
            session,
            meeting.group(1),
            form_errors=form_errors,
            form_values=form_values,
            status=errors.status,
            here=next_url,
        )
    if _CONCERN_PAGE.match(parts.path):
        return concern_page(
            request,
            session,
            concern,
            form_errors=form_errors,
            form_values=form_values,
            status=errors.status,
            here=next_url,
        )
    return action_page(
        request, session, concern, action, next_url, errors=errors, values=form.flat()
    )


@router.post("/concerns/{ref}/act/{action}")
def act(request: Request, ref: str, action: str, posted: PostedDep) -> Response:
    """Do one action from its form, then go back to the page it came from with a message
    naming the concern; on refusal show the form again there, with the reasons in words."""
    app = minqing(request)
    concern = find_concern(app, ref)
    chosen = _action(action)
    form = posted.form
    version = int(form.get("version")) if form.get("version").isdigit() else None
    try:
        result = perform(app, posted.session.principal, concern.id, chosen, form, version)
    except DomainError as exc:
        errors = errors_of(exc, lang_of(request))
        fresh = app.get_concern(concern.id)
        return _shown_again(request, posted.session, fresh, chosen, form, errors)
    target = safe_next(form.get("next"), f"/ui/concerns/{concern.id}")
    return redirect(target, done=chosen.value, concern=concern.id, at=result.position)


@router.post("/concerns/{ref}/reveal")
def reveal(request: Request, ref: str, posted: PostedDep) -> Response:
    """A supervisor reads the resident's data, giving a reason; the read is logged with it."""
    need(posted.session, Role.SUPERVISOR)
    app = minqing(request)
    concern = find_concern(app, ref)
    reason = posted.form.get("reason")
    here = f"/ui/concerns/{concern.id}"
    try:
        return concern_page(
            request, posted.session, concern, here=here, reveal_reason=reason or " "
        )
    except Invalid as exc:
        errors = errors_of(exc, lang_of(request))
        return concern_page(
            request, posted.session, concern, here=here, reveal_errors=errors, status=422
        )


# The concern page's forms that show it again at their own address when refused (the
# time-limit verbs' are in limit_forms.py): GET there goes to the concern page.
form_address(router, "/concerns/{ref}/reveal", concern_address)
form_address(router, "/concerns/{ref}/photos", concern_address)
