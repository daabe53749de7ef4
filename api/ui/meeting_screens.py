"""The meeting room's two screens, rendered for the pages that show them: the chair's
(attendance, votes, the assignment on adoption, the minutes) and the member's phone screen,
with what the live tally's polling compares; and running one chair step.

Not a page module: the meeting pages (api/ui/pages/meetings.py, meeting_votes.py,
meeting_room.py) and the concern page, which shows a refused assignment again in the
meeting room, all render these screens, so none of them imports another for them."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from api.ui import data
from api.ui.forms import Errors, errors_of
from api.ui.messages import translate
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import Posted, minqing, need, redirect
from application.meeting_roll import roll_counts
from application.meeting_views import meeting_view
from application.minqing import Minqing
from domain.errors import DomainError, Forbidden, NotFound
from domain.meeting import ItemStatus, Meeting
from domain.permissions import actions_for, runs_meeting
from domain.vocabulary import STAFF_ROLES, Role

READERS = (*STAFF_ROLES, Role.MEMBER, Role.SUPERVISOR)
LIVE_SECONDS = 2


def meeting_of(app: Minqing, raw: str) -> Meeting:
    """The meeting a path names; a malformed id is not found, as an unknown one."""
    try:
        return app.get_meeting(UUID(raw))
    except ValueError:
        raise NotFound("meeting", raw) from None


def item_of(raw: str) -> UUID:
    """The agenda item (its concern's id) a path names."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound("agenda item", raw) from None


def is_voter(session: UiSession, meeting: Meeting) -> bool:
    """Whether the signed-in principal is a member entitled to vote at this meeting."""
    member = session.principal.member_id
    return member is not None and member in meeting.eligible_voters


# -- the chair's screen --------------------------------------------------------------------


def chair_page(
    request: Request,
    session: UiSession,
    meeting: Meeting,
    errors: dict[str, Errors] | None = None,
    *,
    form_errors: dict[str, Errors] | None = None,
    form_values: dict[str, dict[str, str]] | None = None,
    status: int | None = None,
    here: str | None = None,
) -> Response:
    """The chair's screen, with a refused step's or concern action's messages if any."""
    app = minqing(request)
    view = meeting_view(app, meeting)
    people = data.members(app)
    names = data.names(people)
    # Only the meeting's own chair or deputy chair gets the controls (the commands refuse
    # anyone else anyway).
    chairing = runs_meeting(session.principal, meeting)
    for item in view["agenda"]:
        concern = app.get_concern(UUID(item["concern_id"]))
        item["card"] = {
            "id": item["concern_id"],
            "version": concern.version,
            "allowed_actions": actions_for(session.principal, concern) if chairing else [],
            "duty_default": data.duty_default(item["category"]),
        }
        # The roll: who has not voted yet (the show of hands offers only them) and the
        # votes needed to adopt, from the rule and the entitled count.
        ids = roll_counts(meeting, UUID(item["concern_id"]))
        item["not_voted"] = ids["not_yet"]
        item["votes_needed"] = ids["votes_needed"]
        item["confirm_close"] = _confirm_close(
            lang_of(request), item["concern_id"], len(ids["voted"]), len(ids["not_yet"])
        )
    context = {
        "m": view,
        "names": names,
        "members": people,
        "meetings": [],
        "chairing": chairing,
        "is_voter": is_voter(session, meeting),
        "meeting_errors": errors or {},
        "live_seconds": LIVE_SECONDS,
        "form_errors": form_errors or {},
        "form_values": form_values or {},
    }
    if status is None:
        status = max((e.status for e in (errors or {}).values()), default=200)
    here = here or f"/ui/meetings/{meeting.id}"
    return render(request, "meeting_chair.html", context, session=session, status=status, here=here)


def _confirm_close(lang: str, concern_id: str, voted: int, not_yet: int) -> Markup:
    """The question before closing a vote, its counts in spans the live tally updates."""
    counts = {
        "voted": Markup('<span data-count="voted-{}">{}</span>').format(concern_id, voted),
        "not_yet": Markup('<span data-count="not-yet-{}">{}</span>').format(concern_id, not_yet),
    }
    # The sentence escaped, then its two placeholders swapped for the (safe) spans.
    text = escape(translate(lang, "meeting.confirm_close_vote", voted="\0V", not_yet="\0N"))
    return text.replace("\0V", counts["voted"]).replace("\0N", counts["not_yet"])


def chair_page_of(
    request: Request,
    session: UiSession,
    meeting_id: str,
    *,
    form_errors: dict[str, Errors],
    form_values: dict[str, dict[str, str]],
    status: int,
    here: str,
) -> Response:
    """The meeting room again with a refused concern action's form (the assignment on
    adoption) and its messages."""
    need(session, *READERS)
    meeting = meeting_of(minqing(request), meeting_id)
    return chair_page(
        request,
        session,
        meeting,
        form_errors=form_errors,
        form_values=form_values,
        status=status,
        here=here,
    )


def chair_step(
    request: Request,
    posted: Posted,
    meeting_id: str,
    key: str,
    step: Callable[[Minqing, Meeting], None],
    done: str,
    concern: str | None = None,
) -> Response:
    """Run one chair step; on refusal show the screen again with the message by the form;
    done, back to the meeting room with a message naming the item."""
    app = minqing(request)
    meeting = meeting_of(app, meeting_id)
    try:
        step(app, meeting)
    except DomainError as exc:
        fresh = meeting_of(app, meeting_id)
        return chair_page(request, posted.session, fresh, {key: errors_of(exc, lang_of(request))})
    return redirect(f"/ui/meetings/{meeting.id}", done=done, concern=concern)


# -- the member's phone screen -------------------------------------------------------------


def member_page(
    request: Request,
    session: UiSession,
    meeting: Meeting,
    errors: dict[str, Errors] | None = None,
) -> Response:
    """The items being voted on, each with the member's own choice (sealed if secret)."""
    app = minqing(request)
    member = session.principal.member_id
    if member is None or member not in meeting.eligible_voters:
        raise Forbidden("voting needs a principal linked to a member entitled to vote here")
    secret = meeting.parsed_rules.secret
    items = []
    for concern_id in meeting.agenda:
        raw = meeting.items[str(concern_id)]
        if raw["status"] != ItemStatus.VOTING.value:
            continue
        concern = app.get_concern(concern_id)
        mine = raw["votes"].get(str(member))
        items.append(
            {
                "concern_id": str(concern_id),
                "reference": concern.reference,
                "title": concern.title,
                "category": concern.category,
                "status": raw["status"],
                # A secret ballot's choice is sealed: the member sees only that they voted.
                "my_choice": mine.get("choice", "secret") if mine else None,
            }
        )
    context = {
        "meeting": meeting,
        "items": items,
        "present": member in meeting.present,
        "secret": secret,
        "vote_errors": errors or {},
        "live_key": live_key(meeting, str(member)),
        "live_seconds": LIVE_SECONDS,
    }
    status = max((e.status for e in (errors or {}).values()), default=200)
    return render(request, "meeting_member.html", context, session=session, status=status)


def live_key(meeting: Meeting, member: str | None) -> str:
    """What the member's screen shows: it reloads when this changes (not on others' votes)."""
    here = "present" if member and UUID(member) in meeting.present else "absent"
    parts = [meeting.status, here]
    for concern_id in meeting.agenda:
        raw = meeting.items[str(concern_id)]
        if raw["status"] == ItemStatus.VOTING.value:
            mine = "voted" if member and member in raw["votes"] else "open"
            parts.append(f"{concern_id}:{mine}")
    return "|".join(parts)
