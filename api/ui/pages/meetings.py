"""The meeting room: /ui/meetings (schedule, list), the chair's screen with attendance,
votes, a live tally, assignment on adoption and the minutes, and the member's phone screen
at /ui/meetings/{id}/vote (and /ui/vote, which finds the member's meeting in session)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup, escape

from api.schemas import CloseMeetingIn, MeetingIn, OpenMeetingIn, RulesIn, VoteIn
from api.ui import data
from api.ui.forms import Errors, errors_of, parse, payload
from api.ui.messages import translate
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import Form, Posted, PostedDep, SessionDep, UiRoute, minqing, need, redirect
from application.meeting_roll import roll_counts
from application.meeting_views import meeting_view
from application.minqing import Minqing
from domain.errors import DomainError, Forbidden, NotFound
from domain.meeting import ItemStatus, Meeting, MeetingStatus
from domain.permissions import actions_for, runs_meeting
from domain.vocabulary import STAFF_ROLES, Role
from domain.voting import QUORUMS, THRESHOLDS

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
READERS = (*STAFF_ROLES, Role.MEMBER, Role.SUPERVISOR)
LIVE_SECONDS = 2


def _meeting(app: Minqing, raw: str) -> Meeting:
    try:
        return app.get_meeting(UUID(raw))
    except ValueError:
        raise NotFound("meeting", raw) from None


def _is_voter(session: UiSession, meeting: Meeting) -> bool:
    member = session.principal.member_id
    return member is not None and member in meeting.eligible_voters


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


# -- the chair's screen --------------------------------------------------------------------


def _chair_page(
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
        "is_voter": _is_voter(session, meeting),
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
    meeting = _meeting(minqing(request), meeting_id)
    return _chair_page(
        request,
        session,
        meeting,
        form_errors=form_errors,
        form_values=form_values,
        status=status,
        here=here,
    )


@router.get("/meetings/{meeting_id}")
def meeting_page(request: Request, meeting_id: str, session: SessionDep) -> Response:
    """The chair's screen; a member who only votes is sent to the phone screen."""
    meeting = _meeting(minqing(request), meeting_id)
    roles = session.principal.roles
    if not roles & (set(STAFF_ROLES) | {Role.SUPERVISOR}) and _is_voter(session, meeting):
        return redirect(f"/ui/meetings/{meeting.id}/vote")
    need(session, *READERS)
    return _chair_page(request, session, meeting)


def _chair_step(
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
    meeting = _meeting(app, meeting_id)
    try:
        step(app, meeting)
    except DomainError as exc:
        fresh = _meeting(app, meeting_id)
        return _chair_page(request, posted.session, fresh, {key: errors_of(exc, lang_of(request))})
    return redirect(f"/ui/meetings/{meeting.id}", done=done, concern=concern)


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

    return _chair_step(request, posted, meeting_id, "open", step, "open")


def _item(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound("agenda item", raw) from None


@router.post("/meetings/{meeting_id}/items/{concern_id}/open-vote")
def open_vote(request: Request, meeting_id: str, concern_id: str, posted: PostedDep) -> Response:
    """Open the vote on one item."""

    def step(app: Minqing, meeting: Meeting) -> None:
        app.open_vote(meeting.id, posted.session.principal, _item(concern_id))

    return _chair_step(
        request, posted, meeting_id, f"item:{concern_id}", step, "open_vote", concern_id
    )


@router.post("/meetings/{meeting_id}/items/{concern_id}/close-vote")
def close_vote(request: Request, meeting_id: str, concern_id: str, posted: PostedDep) -> Response:
    """Close the vote: the outcome moves the concern at once."""

    def step(app: Minqing, meeting: Meeting) -> None:
        app.close_vote(meeting.id, posted.session.principal, _item(concern_id))

    return _chair_step(
        request, posted, meeting_id, f"item:{concern_id}", step, "close_vote", concern_id
    )


@router.post("/meetings/{meeting_id}/close")
def close_meeting(request: Request, meeting_id: str, posted: PostedDep) -> Response:
    """Close the meeting with its minutes."""

    def step(app: Minqing, meeting: Meeting) -> None:
        body = parse(CloseMeetingIn, {"minutes": posted.form.get("minutes")})
        app.close_meeting(meeting.id, posted.session.principal, body.minutes)

    return _chair_step(request, posted, meeting_id, "close", step, "close")


# -- votes: the member's screen and the chair's show of hands -------------------------------


def _vote_body(form: Form) -> VoteIn:
    body: dict[str, Any] = payload(form, VoteIn)
    return parse(VoteIn, body)


@router.post("/meetings/{meeting_id}/items/{concern_id}/votes")
def cast_vote(request: Request, meeting_id: str, concern_id: str, posted: PostedDep) -> Response:
    """A member's own vote (from the phone screen) or the chair's record of a show of hands."""
    app = minqing(request)
    meeting = _meeting(app, meeting_id)
    item = _item(concern_id)
    from_chair = posted.form.get("from") == "chair"
    try:
        vote = _vote_body(posted.form)
        app.cast_vote(meeting.id, posted.session.principal, item, vote.choice, vote.voter)
    except DomainError as exc:
        errors = errors_of(exc, lang_of(request))
        fresh = _meeting(app, meeting_id)
        if from_chair:
            return _chair_page(request, posted.session, fresh, {f"item:{concern_id}": errors})
        return _member_page(request, posted.session, fresh, {concern_id: errors})
    if from_chair:
        return redirect(f"/ui/meetings/{meeting.id}", done="vote", concern=concern_id)
    return redirect(f"/ui/meetings/{meeting.id}/vote")


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


def _member_page(
    request: Request,
    session: UiSession,
    meeting: Meeting,
    errors: dict[str, Errors] | None = None,
) -> Response:
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


@router.get("/meetings/{meeting_id}/vote")
def member_screen(request: Request, meeting_id: str, session: SessionDep) -> Response:
    """The member's phone screen: the item being voted on and three large buttons."""
    return _member_page(request, session, _meeting(minqing(request), meeting_id))


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
    meeting = _meeting(minqing(request), meeting_id)
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
