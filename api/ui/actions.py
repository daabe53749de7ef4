"""The concern's actions as forms: which fields each asks for, and the verb it calls.

The fields and their validation are the API's (api/schemas.py), so a form refuses exactly
what the matching endpoint refuses, with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from api.schemas import (
    AssignmentIn,
    ExtendIn,
    FeedbackIn,
    MilestoneIn,
    MissingIn,
    NoteIn,
    ProgressIn,
    ReasonIn,
    ReassignIn,
    ResolveIn,
)
from api.ui.forms import parse, payload
from api.ui.web import Form
from application.minqing import CommandResult, Minqing
from domain import text as policy
from domain.errors import DomainError, Invalid
from domain.lifecycle import Action
from domain.meeting import MeetingStatus
from domain.principal import Principal


@dataclass(frozen=True)
class Field:
    """One field of an action's form: its name (as in the API body), widget, requiredness."""

    name: str
    # text, textarea, date, owner, duty_role, meeting, milestone, solved, satisfaction
    widget: str
    required: bool = True


_NOTE = Field("note", "textarea", required=False)
_REASON = Field("reason", "textarea")
_OWNER = Field("owner", "owner")
_DUTY = Field("duty_role", "duty_role")
_DUE = Field("due_on", "date")

FIELDS: dict[str, tuple[Field, ...]] = {
    Action.REFER: (_NOTE,),
    Action.HANDLE_NOW: (_OWNER, _DUTY, _DUE, _NOTE),
    Action.DECLINE: (_REASON,),
    Action.MERGE_INTO: (Field("into", "concern"), _NOTE),
    Action.WITHDRAW: (_REASON,),
    Action.SHORTLIST: (Field("meeting", "meeting"),),
    Action.ASSIGN: (_OWNER, _DUTY, _DUE, _NOTE),
    Action.RETURN_FOR_INFO: (Field("missing", "textarea"),),
    Action.RECORD_PROGRESS: (Field("note", "textarea"),),
    Action.EXTEND_DEADLINE: (_DUE, _REASON),
    Action.REASSIGN: (_OWNER, _DUTY, _REASON),
    Action.SEND_BACK: (_REASON,),
    Action.RESOLVE: (Field("summary", "textarea"),),
    Action.RECORD_FEEDBACK: (
        Field("solved", "solved"),
        Field("satisfaction", "satisfaction"),
        Field("comment", "textarea", required=False),
    ),
    Action.REOPEN: (_REASON,),
    Action.ADD_MILESTONE: (Field("title", "text"), _DUE),
    Action.COMPLETE_MILESTONE: (Field("milestone_id", "milestone"), _NOTE),
    Action.WRITE_OFF: (_NOTE,),
}


# Actions whose form needs a picker (every member, or the open concerns): a list card links
# to the action's own page for them rather than carrying the picker once per card.
ON_THEIR_OWN_PAGE = frozenset(
    {Action.HANDLE_NOW, Action.ASSIGN, Action.REASSIGN, Action.MERGE_INTO}
)


def _body(form: Form, model: type[BaseModel]) -> Any:
    return parse(model, payload(form, model))


def _concern_ref(app: Minqing, raw: str, name: str) -> UUID:
    text = raw.strip()
    if not text:
        raise Invalid([(name, "Field required")])
    problem = policy.problem(text)
    if problem:
        raise Invalid([(name, problem)])
    try:
        return UUID(text)
    except ValueError:
        pass
    try:
        return app.concern_by_reference(text.upper()).id
    except DomainError:
        raise Invalid([(name, f"no concern {text}")]) from None


def _milestone(raw: str) -> UUID:
    try:
        return UUID(raw.strip())
    except ValueError:
        raise Invalid([("milestone_id", "choose a milestone not done yet")]) from None


def _meeting(app: Minqing, raw: str) -> UUID:
    try:
        meeting = app.get_meeting(UUID(raw.strip()))
    except (ValueError, DomainError):
        raise Invalid([("meeting", "choose a scheduled meeting")]) from None
    if meeting.status == MeetingStatus.CLOSED:
        raise Invalid([("meeting", "the meeting has already taken place")])
    return meeting.id


def perform(
    app: Minqing,
    principal: Principal,
    concern_id: UUID,
    action: Action,
    form: Form,
    version: int | None,
) -> CommandResult:
    """Validate the action's form and run its verb; DomainError when refused."""
    if action is Action.REFER:
        note = _body(form, NoteIn).note
        return app.refer(concern_id, principal, note, version)
    if action is Action.HANDLE_NOW:
        a = _body(form, AssignmentIn)
        return app.handle_now(
            concern_id, principal, a.owner, a.duty_role, a.due_on, a.note, version
        )
    if action is Action.DECLINE:
        return app.decline(concern_id, principal, _body(form, ReasonIn).reason, version)
    if action is Action.MERGE_INTO:
        into = _concern_ref(app, form.get("into"), "into")
        note = _body(form, NoteIn).note
        return app.merge(concern_id, principal, into, note, version)
    if action is Action.WITHDRAW:
        return app.withdraw(concern_id, principal, _body(form, ReasonIn).reason, version)
    if action is Action.SHORTLIST:
        return app.shortlist(_meeting(app, form.get("meeting")), principal, concern_id)
    if action is Action.ASSIGN:
        a = _body(form, AssignmentIn)
        return app.assign(concern_id, principal, a.owner, a.duty_role, a.due_on, a.note, version)
    if action is Action.RETURN_FOR_INFO:
        missing = _body(form, MissingIn).missing
        return app.return_for_info(concern_id, principal, missing, version)
    if action is Action.RECORD_PROGRESS:
        return app.record_progress(concern_id, principal, _body(form, ProgressIn).note, version)
    if action is Action.EXTEND_DEADLINE:
        e = _body(form, ExtendIn)
        return app.extend_deadline(concern_id, principal, e.due_on, e.reason, version)
    if action is Action.REASSIGN:
        r = _body(form, ReassignIn)
        return app.reassign(concern_id, principal, r.owner, r.duty_role, r.reason, version)
    if action is Action.SEND_BACK:
        return app.send_back(concern_id, principal, _body(form, ReasonIn).reason, version)
    if action is Action.RESOLVE:
        return app.resolve(concern_id, principal, _body(form, ResolveIn).summary, version)
    if action is Action.RECORD_FEEDBACK:
        f = _body(form, FeedbackIn)
        return app.record_feedback(
            concern_id, principal, f.solved, f.satisfaction, f.comment, version
        )
    if action is Action.REOPEN:
        return app.reopen(concern_id, principal, _body(form, ReasonIn).reason, version)
    if action is Action.ADD_MILESTONE:
        m = _body(form, MilestoneIn)
        return app.add_milestone(concern_id, principal, m.title, m.due_on, version)
    if action is Action.COMPLETE_MILESTONE:
        milestone = _milestone(form.get("milestone_id"))
        note = _body(form, NoteIn).note
        return app.complete_milestone(concern_id, principal, milestone, note, version)
    if action is Action.WRITE_OFF:
        return app.write_off(concern_id, principal, _body(form, NoteIn).note, version)
    raise Invalid([("action", f"{action.value} is not done from a form")])
