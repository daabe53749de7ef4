"""The meetings: /ui/meetings (schedule, list) and the chair's screen with its steps: open
the meeting with its attendance, open and close each item's vote, close it with the
minutes. The votes and the member's phone screen are in meeting_votes.py, late arrivals,
inquorate and the projector in meeting_room.py; the screens themselves in
api/ui/meeting_screens.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.schemas import CloseMeetingIn, MeetingIn, OpenMeetingIn, RulesIn
from api.ui import data
from api.ui.forms import Errors, errors_of, parse, payload
from api.ui.meeting_screens import READERS, chair_page, chair_step, is_voter, item_of, meeting_of
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import PostedDep, SessionDep, UiRoute, minqing, need, redirect
from application.minqing import Minqing
from domain.errors import DomainError
from domain.meeting import Meeting
from domain.vocabulary import STAFF_ROLES, Role
from domain.voting import QUORUMS, THRESHOLDS

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


# -- the list and scheduling -------------------------------------------------------------


def _list_page(
    request: Request,
    session: UiSession,
    errors: Errors | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    app = minqing(request)
    people = data.members(app)
    meetings = sorted(app.list_meetings(), key=lambda m: m.scheduled_for, reverse=True)
    voters = [m["id"] for m in people if m["votes"]]
    context = {
        "meetings": meetings,
        "members": people,
        "may_schedule": bool(session.principal.roles & {Role.CHAIR, Role.COMMITTEE}),
        "quorums": list(QUORUMS),
        "thresholds": list(THRESHOLDS),
        "errors": errors,
        "values": values or {},
        "chosen_voters": (values or {}).get("eligible_voters", voters),
    }
    status = errors.status if errors else 200
    return render(request, "meetings.html", context, session=session, status=status)


@router.get("/meetings")
def meetings(request: Request, session: SessionDep) -> Response:
    """Every meeting, the latest first, and the form to schedule one."""
    need(session, *READERS)
    return _list_page(request, session)


@router.post("/meetings")
def schedule(request: Request, posted: PostedDep) -> Response:
    """Schedule a meeting (chair, committee)."""
    session, form = posted.session, posted.form
    app = minqing(request)
    body = payload(form, MeetingIn, lists=("eligible_voters",))
    rules = payload(form, RulesIn, prefix="rules.")
    if rules:
        body["rules"] = rules
    values: dict[str, Any] = {**form.flat(), "eligible_voters": form.getlist("eligible_voters")}
    try:
        m = parse(MeetingIn, body)
        result = app.schedule_meeting(
            session.principal,
            m.title,
            m.kind,
            m.scheduled_for,
            m.place,
            m.chair,
            list(m.eligible_voters),
            m.rules.model_dump(exclude_none=True) if m.rules else None,
            deputy_chair=m.deputy_chair,
        )
    except DomainError as exc:
        return _list_page(request, session, errors_of(exc, lang_of(request)), values)
    return redirect(f"/ui/meetings/{result.id}", done="scheduled")


# -- the chair's screen and steps ----------------------------------------------------------


@router.get("/meetings/{meeting_id}")
def meeting_page(request: Request, meeting_id: str, session: SessionDep) -> Response:
    """The chair's screen; a member who only votes is sent to the phone screen."""
    meeting = meeting_of(minqing(request), meeting_id)
    roles = session.principal.roles
    if not roles & (set(STAFF_ROLES) | {Role.SUPERVISOR}) and is_voter(session, meeting):
        return redirect(f"/ui/meetings/{meeting.id}/vote")
    need(session, *READERS)
    return chair_page(request, session, meeting)


@router.post("/meetings/{meeting_id}/open")
def open_meeting(request: Request, meeting_id: str, posted: PostedDep) -> Response:
    """Record attendance and open the meeting."""
    form = posted.form

    def step(app: Minqing, meeting: Meeting) -> None:
        reps = [line.strip() for line in form.get("resident_representatives").splitlines()]
        named = [r for r in reps if r]
        body = parse(
            OpenMeetingIn, {"present": form.getlist("present"), "resident_representatives": named}
        )
        app.open_meeting(
            meeting.id,
            posted.session.principal,
            list(body.present),
            list(body.resident_representatives),
        )

    return chair_step(request, posted, meeting_id, "open", step, "open")


@router.post("/meetings/{meeting_id}/items/{concern_id}/open-vote")
def open_vote(request: Request, meeting_id: str, concern_id: str, posted: PostedDep) -> Response:
    """Open the vote on one item."""

    def step(app: Minqing, meeting: Meeting) -> None:
        app.open_vote(meeting.id, posted.session.principal, item_of(concern_id))

    return chair_step(
        request, posted, meeting_id, f"item:{concern_id}", step, "open_vote", concern_id
    )


@router.post("/meetings/{meeting_id}/items/{concern_id}/close-vote")
def close_vote(request: Request, meeting_id: str, concern_id: str, posted: PostedDep) -> Response:
    """Close the vote: the outcome moves the concern at once."""

    def step(app: Minqing, meeting: Meeting) -> None:
        app.close_vote(meeting.id, posted.session.principal, item_of(concern_id))

    return chair_step(
        request, posted, meeting_id, f"item:{concern_id}", step, "close_vote", concern_id
    )


@router.post("/meetings/{meeting_id}/close")
def close_meeting(request: Request, meeting_id: str, posted: PostedDep) -> Response:
    """Close the meeting with its minutes."""

    def step(app: Minqing, meeting: Meeting) -> None:
        body = parse(CloseMeetingIn, {"minutes": posted.form.get("minutes")})
        app.close_meeting(meeting.id, posted.session.principal, body.minutes)

    return chair_step(request, posted, meeting_id, "close", step, "close")


# -- the forms' addresses asked for with GET (a reload, a bookmark): the page they are on --


@router.get("/meetings/{meeting_id}/open")
@router.get("/meetings/{meeting_id}/close")
def meeting_step_page(meeting_id: str) -> Response:
    """A chair step's address is a form's; GET goes to the meeting room."""
    return redirect(f"/ui/meetings/{quote(meeting_id)}")


@router.get("/meetings/{meeting_id}/items/{concern_id}/open-vote")
@router.get("/meetings/{meeting_id}/items/{concern_id}/close-vote")
@router.get("/meetings/{meeting_id}/items/{concern_id}/votes")
def item_step_page(meeting_id: str, concern_id: str) -> Response:
    """A vote's address is a form's; GET goes to the meeting room."""
    return redirect(f"/ui/meetings/{quote(meeting_id)}")
