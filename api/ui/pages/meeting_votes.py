"""The votes: a member's own vote from the phone screen at /ui/meetings/{id}/vote (and
/ui/vote, which finds the member's meeting in session), the chair's record of a show of
hands, and the live tally the chair's, the member's and the projector's screens poll."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.schemas import VoteIn
from api.ui.forms import errors_of, parse, payload
from api.ui.meeting_screens import READERS, chair_page, item_of, live_key, meeting_of, member_page
from api.ui.render import lang_of, render
from api.ui.web import Form, PostedDep, SessionDep, UiRoute, minqing, need, redirect
from application.meeting_roll import roll_counts
from domain.errors import DomainError
from domain.meeting import ItemStatus, Meeting, MeetingStatus
from domain.permissions import runs_meeting
from domain.vocabulary import Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


# -- votes: the member's screen and the chair's show of hands -------------------------------


def _vote_body(form: Form) -> VoteIn:
    body: dict[str, Any] = payload(form, VoteIn)
    return parse(VoteIn, body)


@router.post("/meetings/{meeting_id}/items/{concern_id}/votes")
def cast_vote(request: Request, meeting_id: str, concern_id: str, posted: PostedDep) -> Response:
    """A member's own vote (from the phone screen) or the chair's record of a show of hands."""
    app = minqing(request)
    meeting = meeting_of(app, meeting_id)
    item = item_of(concern_id)
    from_chair = posted.form.get("from") == "chair"
    try:
        vote = _vote_body(posted.form)
        app.cast_vote(meeting.id, posted.session.principal, item, vote.choice, vote.voter)
    except DomainError as exc:
        errors = errors_of(exc, lang_of(request))
        fresh = meeting_of(app, meeting_id)
        if from_chair:
            return chair_page(request, posted.session, fresh, {f"item:{concern_id}": errors})
        return member_page(request, posted.session, fresh, {concern_id: errors})
    if from_chair:
        return redirect(f"/ui/meetings/{meeting.id}", done="vote", concern=concern_id)
    return redirect(f"/ui/meetings/{meeting.id}/vote")


@router.get("/meetings/{meeting_id}/vote")
def member_screen(request: Request, meeting_id: str, session: SessionDep) -> Response:
    """The member's phone screen: the item being voted on and three large buttons."""
    return member_page(request, session, meeting_of(minqing(request), meeting_id))


@router.get("/vote")
def my_meeting(request: Request, session: SessionDep) -> Response:
    """Go to the meeting in session where the signed-in member may vote."""
    need(session, Role.MEMBER, Role.CHAIR)
    member = session.principal.member_id
    app = minqing(request)
    found = [
        m
        for m in app.list_meetings()
        if m.status == MeetingStatus.OPEN.value
        and member is not None
        and member in m.eligible_voters
    ]
    if len(found) == 1:
        return redirect(f"/ui/meetings/{found[0].id}/vote")
    return render(request, "vote_pick.html", {"found": found}, session=session)


# -- the live tally -------------------------------------------------------------------------


def live_items(meeting: Meeting, chairing: bool = False) -> list[dict[str, Any]]:
    """Each item's status and count, from the meeting alone (polled often: no concern is
    read); while a secret ballot is open only the number voted. The chair's screen also
    gets who has not voted yet (never what anyone chose)."""
    secret = meeting.parsed_rules.secret
    found = []
    for concern_id in meeting.agenda:
        raw = meeting.items[str(concern_id)]
        decided = raw["status"] == ItemStatus.DECIDED.value
        tally = raw["tally"] if decided else meeting.tally(concern_id).as_dict()
        if secret and not decided:
            tally = {"voted": len(raw["votes"])}
        shown = ("voted",) if secret and not decided else ("for", "against", "abstain", "voted")
        found.append(
            {
                "concern_id": str(concern_id),
                "status": raw["status"],
                "tally": {k: tally[k] for k in shown if k in tally},
                "outcome": tally["outcome"] if decided else None,
                **({"not_yet": roll_counts(meeting, concern_id)["not_yet"]} if chairing else {}),
            }
        )
    return found


@router.get("/meetings/{meeting_id}/live")
def live(request: Request, meeting_id: str, session: SessionDep) -> JSONResponse:
    """The tallies now (counts only while a secret ballot is open), for short polling."""
    need(session, *READERS)
    meeting = meeting_of(minqing(request), meeting_id)
    member = str(session.principal.member_id) if session.principal.member_id else None
    return JSONResponse(
        {
            "version": meeting.version,
            "status": meeting.status,
            "key": live_key(meeting, member),
            "present": len(meeting.entitled_present()),
            "items": live_items(meeting, runs_meeting(session.principal, meeting)),
        },
        headers={"Cache-Control": "no-store"},
    )
