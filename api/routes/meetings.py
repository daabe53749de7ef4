"""Branch meetings: agenda, attendance, votes and minutes at /api/v1/meetings."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from api import minutes_html
from api.deps import IdempotencyDep, MinqingDep, PrincipalDep, concern_id, require
from api.openapi import answers, errors
from api.responses import HistoryOut
from api.responses_meetings import MeetingCommandOut, MeetingList, MeetingOut, MinutesOut, RollOut
from api.schemas import (
    AgendaIn,
    AttendanceIn,
    CloseMeetingIn,
    MeetingIn,
    OpenMeetingIn,
    VoteIn,
)
from application.meeting_roll import roll
from application.meeting_views import meeting_view, minutes
from application.minqing import Minqing
from domain.errors import Conflict, Forbidden, NotFound
from domain.meeting import ItemStatus, Meeting
from domain.permissions import runs_meeting
from domain.principal import Principal
from domain.vocabulary import STAFF_ROLES, Role

router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"], responses=errors(401, 403, 503))
Reader = Annotated[Principal, require(*STAFF_ROLES, Role.MEMBER, Role.SUPERVISOR)]
Chair = Annotated[Principal, require(Role.CHAIR)]
Out = dict[str, Any]
# A command on one meeting: unknown meeting or item, or not allowed now.
COMMAND = answers(MeetingCommandOut, 404, 409)


def _meeting(app: Minqing, raw: str) -> Meeting:
    try:
        return app.get_meeting(UUID(raw))
    except ValueError:
        raise NotFound("meeting", raw) from None


def _id(app: Minqing, raw: str) -> UUID:
    return _meeting(app, raw).id


@router.post("", **answers(MeetingCommandOut, 409, status=201))
def schedule(
    body: MeetingIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.CHAIR, Role.COMMITTEE)],
    idem: IdempotencyDep,
) -> Out:
    """Schedule a meeting: title, kind, time, place, chair (and optional deputy chair: only
    they may run it), members entitled to vote, rules."""
    rules = body.rules.model_dump(exclude_none=True) if body.rules else None
    return app.schedule_meeting(
        principal,
        body.title,
        body.kind,
        body.scheduled_for,
        body.place,
        body.chair,
        list(body.eligible_voters),
        rules,
        idem,
        deputy_chair=body.deputy_chair,
    ).body()


@router.get("", **answers(MeetingList))
def list_meetings(app: MinqingDep, _: Reader) -> Out:
    """Every meeting, oldest first."""
    return {
        "items": [
            {
                "id": str(m.id),
                "title": m.title,
                "kind": m.kind,
                "status": m.status,
                "scheduled_for": m.scheduled_for.isoformat(),
                "agenda": len(m.agenda),
            }
            for m in app.list_meetings()
        ]
    }


@router.get("/{meeting_id}", **answers(MeetingOut, 404))
def get_meeting(meeting_id: str, app: MinqingDep, _: Reader) -> Out:
    """The meeting with its agenda, attendance, quorum, live tallies and outcomes."""
    return meeting_view(app, _meeting(app, meeting_id))


@router.get("/{meeting_id}/history", response_class=JSONResponse, **answers(HistoryOut, 404))
def meeting_history(
    meeting_id: str,
    app: MinqingDep,
    _: Annotated[Principal, require(Role.SUPERVISOR, Role.STAFF)],
) -> JSONResponse:
    """Every event of the meeting in order (a secret ballot's choices left out)."""
    mid = _id(app, meeting_id)
    # Plain data already: skip FastAPI's re-encoding (as the concern's history does).
    return JSONResponse({"id": str(mid), "events": app.meeting_history(mid)})


@router.get(
    "/{meeting_id}/minutes",
    **answers(MinutesOut, 404, content={"text/html": {"schema": {"type": "string"}}}),
)
def get_minutes(
    meeting_id: str,
    app: MinqingDep,
    _: Reader,
    format: Annotated[Literal["json", "html"], Query()] = "json",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
) -> Out | HTMLResponse:
    """The record of the meeting as JSON, or `?format=html` a printable page (`lang=en`)."""
    data = minutes(app, _meeting(app, meeting_id))
    if format == "html":
        return HTMLResponse(minutes_html.render(data, lang))
    return data


@router.get("/{meeting_id}/items/{concern_ref}/roll", **answers(RollOut, 404, 409))
def get_roll(
    meeting_id: str,
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.CHAIR, Role.SUPERVISOR)],
) -> Out:
    """Who is entitled, present, has voted and has not yet, and the votes needed to adopt:
    the meeting's chair any time, a supervisor once the vote is closed; never a choice."""
    meeting = _meeting(app, meeting_id)
    cid = concern_id(app, concern_ref)
    if not runs_meeting(principal, meeting):
        if Role.SUPERVISOR not in principal.roles:
            raise Forbidden("the roll is for this meeting's chair or deputy chair")
        if meeting.items.get(str(cid), {}).get("status") == ItemStatus.VOTING:
            raise Conflict("a supervisor reads the roll once the vote is closed", rule="vote_open")
    return roll(app, meeting, cid)


@router.post("/{meeting_id}/agenda", **COMMAND)
def add_to_agenda(
    meeting_id: str,
    body: AgendaIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.COMMITTEE)],
    idem: IdempotencyDep,
) -> Out:
    """Shortlist a concern: it moves to branch_meeting and joins the agenda in one save."""
    return app.shortlist(_id(app, meeting_id), principal, body.concern_id, idem).body()


@router.post("/{meeting_id}/open", **COMMAND)
def open_meeting(
    meeting_id: str, body: OpenMeetingIn, app: MinqingDep, principal: Chair, idem: IdempotencyDep
) -> Out:
    """Open the meeting and record the members present and resident representatives."""
    return app.open_meeting(
        _id(app, meeting_id),
        principal,
        list(body.present),
        list(body.resident_representatives),
        idem,
    ).body()


@router.post("/{meeting_id}/attendance", **COMMAND)
def record_attendance(
    meeting_id: str, body: AttendanceIn, app: MinqingDep, principal: Chair, idem: IdempotencyDep
) -> Out:
    """Record members arriving late or leaving after the meeting opened (each kept with
    its time); the answer has the quorum now."""
    return app.record_attendance(
        _id(app, meeting_id), principal, list(body.arrived), list(body.left), idem
    ).body()


@router.post("/{meeting_id}/declare-inquorate", **COMMAND)
def declare_inquorate(
    meeting_id: str, app: MinqingDep, principal: Chair, idem: IdempotencyDep
) -> Out:
    """Declare the meeting without a quorum: undecided items go back to the committee."""
    return app.declare_inquorate(_id(app, meeting_id), principal, idem).body()


@router.post("/{meeting_id}/items/{concern_ref}/open-vote", **COMMAND)
def open_vote(
    meeting_id: str, concern_ref: str, app: MinqingDep, principal: Chair, idem: IdempotencyDep
) -> Out:
    """Open the vote on one agenda item."""
    return app.open_vote(_id(app, meeting_id), principal, concern_id(app, concern_ref), idem).body()


@router.post("/{meeting_id}/items/{concern_ref}/votes", **COMMAND)
def cast_vote(
    meeting_id: str,
    concern_ref: str,
    body: VoteIn,
    app: MinqingDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> Out:
    """A member's own vote, or the chair recording a named present member's show of hands."""
    return app.cast_vote(
        _id(app, meeting_id), principal, concern_id(app, concern_ref), body.choice, body.voter, idem
    ).body()


@router.post("/{meeting_id}/items/{concern_ref}/close-vote", **COMMAND)
def close_vote(
    meeting_id: str, concern_ref: str, app: MinqingDep, principal: Chair, idem: IdempotencyDep
) -> Out:
    """Close the vote: the outcome (adopted, rejected, deferred) moves the concern at once."""
    return app.close_vote(
        _id(app, meeting_id), principal, concern_id(app, concern_ref), idem
    ).body()


@router.post("/{meeting_id}/close", **COMMAND)
def close_meeting(
    meeting_id: str,
    body: CloseMeetingIn,
    app: MinqingDep,
    principal: Chair,
    idem: IdempotencyDep,
) -> Out:
    """Close the meeting with its minutes; undecided items are deferred to the committee."""
    return app.close_meeting(_id(app, meeting_id), principal, body.minutes, idem).body()
