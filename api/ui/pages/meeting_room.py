"""More of the meeting room: the chair records late arrivals and departures or declares the
meeting inquorate, and the projector view shows the room the item, the count present and
entitled, the votes needed and the live tally in large type."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.schemas import AttendanceIn
from api.ui.forms import parse
from api.ui.meeting_screens import READERS, chair_step, live_key, meeting_of
from api.ui.render import render
from api.ui.web import PostedDep, SessionDep, UiRoute, minqing, need, redirect
from application.meeting_views import meeting_view, votes_needed
from application.minqing import Minqing
from domain.meeting import ItemStatus, Meeting

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
PROJECTOR_SECONDS = 2


@router.post("/meetings/{meeting_id}/attendance")
def record_attendance(request: Request, meeting_id: str, posted: PostedDep) -> Response:
    """Record late arrivals and departures."""
    form = posted.form

    def step(app: Minqing, meeting: Meeting) -> None:
        body = parse(
            AttendanceIn, {"arrived": form.getlist("arrived"), "left": form.getlist("left")}
        )
        app.record_attendance(
            meeting.id, posted.session.principal, list(body.arrived), list(body.left)
        )

    return chair_step(request, posted, meeting_id, "attendance", step, "attendance")


@router.post("/meetings/{meeting_id}/declare-inquorate")
def declare_inquorate(request: Request, meeting_id: str, posted: PostedDep) -> Response:
    """Declare the meeting inquorate: its undecided items go back to the committee."""

    def step(app: Minqing, meeting: Meeting) -> None:
        app.declare_inquorate(meeting.id, posted.session.principal)

    return chair_step(request, posted, meeting_id, "inquorate", step, "inquorate")


@router.get("/meetings/{meeting_id}/attendance")
@router.get("/meetings/{meeting_id}/declare-inquorate")
def room_step_page(meeting_id: str) -> Response:
    """A chair step's address is a form's; GET goes to the meeting room."""
    return redirect(f"/ui/meetings/{quote(meeting_id)}")


def _shown_item(view: dict[str, Any]) -> dict[str, Any] | None:
    """The item the room looks at: the one being voted on, else the last decided, else
    the next waiting."""
    agenda: list[dict[str, Any]] = view["agenda"]
    for status in (ItemStatus.VOTING.value, ItemStatus.DECIDED.value):
        found = [i for i in agenda if i["status"] == status]
        if found:
            return found[-1] if status == ItemStatus.DECIDED.value else found[0]
    return agenda[0] if agenda else None


@router.get("/meetings/{meeting_id}/projector")
def projector(request: Request, meeting_id: str, session: SessionDep) -> Response:
    """The projector view: the item, present of entitled, votes needed, the live tally."""
    need(session, *READERS)
    app = minqing(request)
    meeting = meeting_of(app, meeting_id)
    view = meeting_view(app, meeting)
    item = _shown_item(view)
    needed = None
    if item is not None:
        raw = meeting.items[item["concern_id"]]
        judged = raw.get("quorum") or meeting.quorum_now().as_dict()
        needed = votes_needed(meeting, judged["present"])
    context = {
        "m": view,
        "item": item,
        "needed": needed,
        "live_key": live_key(meeting, None),
        "live_seconds": PROJECTOR_SECONDS,
        "item_id": UUID(item["concern_id"]) if item else None,
    }
    return render(request, "meeting_projector.html", context, session=session)
