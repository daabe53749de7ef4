"""Pages made to be printed: a concern's assignment slip (交办单) at
/ui/concerns/{id}/slip, the resident's slip with the tracking code and a QR code to the
tracking page at /ui/concerns/{id}/receipt, and a meeting's minutes at
/ui/meetings/{id}/minutes. Each is an ordinary page on screen; print styles (ui.css) leave
only the paper."""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import minutes_html
from api.settings import Settings
from api.ui import data
from api.ui.data import find_concern
from api.ui.meeting_screens import meeting_of
from api.ui.messages import translate
from api.ui.render import lang_of, render
from api.ui.timeline import people
from api.ui.web import SessionDep, UiRoute, minqing, need
from application.meeting_views import minutes
from domain.errors import Forbidden
from domain.permissions import check_view
from domain.vocabulary import STAFF_ROLES, Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
READERS = (*STAFF_ROLES, Role.MEMBER, Role.SUPERVISOR)
# The events that name an owner and a due date: the slip is made from the latest of them.
_ASSIGNING = ("HandledNow", "Assigned", "Reassigned", "DeadlineExtended", "Reopened")


def qr_svg(text: str, title: str) -> str:
    """A QR code of `text` as inline SVG (no style attribute, so the CSP holds), named
    `title` for screen readers."""
    code = segno.make(text, error="m")
    svg: str = code.svg_inline(scale=4, title=title, svgclass="qr", lineclass="qr-line")
    return svg.replace("<svg ", '<svg role="img" ', 1)


@router.get("/concerns/{ref}/slip")
def assignment_slip(request: Request, ref: str, session: SessionDep) -> Response:
    """The assignment slip (交办单): who must do what by when, who assigned it and when,
    with room for signatures; printed for the owner's file."""
    app = minqing(request)
    concern = find_concern(app, ref)
    check_view(session.principal, concern)
    members = data.names(data.members(app))
    entries = app.history(concern.id)
    assigned = next((e for e in reversed(entries) if e["type"] in _ASSIGNING), None)
    context: dict[str, Any] = {
        "c": concern,
        "owner_name": members.get(str(concern.owner), "") if concern.owner else "",
        "assigned": assigned,
        "assigned_by": people(app, members).get(assigned["actor"] or "", "") if assigned else "",
        "printed_at": app.clock(),
    }
    return render(request, "slip.html", context, session=session)


@router.get("/concerns/{ref}/receipt")
def resident_slip(request: Request, ref: str, session: SessionDep) -> Response:
    """The resident's slip: the reference, the tracking code and a QR code to the tracking
    page. Only whoever recorded the concern sees its tracking code (as on /ui/record/done)."""
    app = minqing(request)
    concern = find_concern(app, ref)
    check_view(session.principal, concern)
    if concern.raised_by != session.principal.id or not concern.tracking_code:
        raise Forbidden("only whoever recorded the concern prints the resident's slip")
    settings: Settings = request.app.state.settings
    url = f"{settings.public_url.rstrip('/')}/ui/track/{concern.tracking_code}"
    lang = lang_of(request)
    context = {
        "c": concern,
        "track_url": url,
        "qr": qr_svg(url, translate(lang, "receipt.qr", url=url)),
        "feedback_days": settings.feedback_window_days,
        "printed_at": app.clock(),
    }
    return render(request, "receipt.html", context, session=session)


@router.get("/meetings/{meeting_id}/minutes")
def print_minutes(request: Request, meeting_id: str, session: SessionDep) -> Response:
    """The meeting's minutes, to read and to print, in the reader's language."""
    need(session, *READERS)
    app = minqing(request)
    meeting = meeting_of(app, meeting_id)
    record = minutes(app, meeting)
    lang = lang_of(request)
    context = {
        "r": record,
        "meeting_id": str(meeting.id),
        "printed_at": app.clock(),
        # The rule with its article, and the late arrivals and departures, in words.
        "rule_text": minutes_html.rule_in_words(record["rules"], record["article"], lang),
        "changes_text": minutes_html.changes_in_words(record["attendance"]["changes"], lang),
    }
    return render(request, "minutes.html", context, session=session)
