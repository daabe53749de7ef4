"""Concern commands and reads: /api/v1/concerns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from adapters import request_events
from api.dates import Moment
from api.deps import IdempotencyDep, IfMatchDep, MinqingDep, concern_id, require
from api.openapi import answers, errors
from api.responses import ConcernOut, HistoryOut
from api.schemas import (
    AssignmentIn,
    CommandOut,
    ConcernIn,
    ExtendIn,
    FeedbackIn,
    MergeIn,
    MissingIn,
    NoteIn,
    ProgressIn,
    ReasonIn,
    ReassignIn,
    ResolveIn,
)
from application import disclosure
from application.minqing import NewConcern
from domain.errors import Forbidden, NotFound
from domain.geo import point_from
from domain.lifecycle import RAISE_ROLES, TRANSITIONS, Action
from domain.permissions import VIEW_ROLES, check_grid, check_view
from domain.principal import Principal
from domain.residents import ResidentData
from domain.unreadable import UnreadableEvent
from domain.vocabulary import Role
from projections.hotspots import hotspots_of_concern

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))
# A command on one concern: unknown, not allowed now, or not the version If-Match names.
COMMAND_ERRORS = errors(404, 409, 412)


def may(action: Action) -> Any:
    """The roles the transition table gives `action`, checked before the body is used."""
    rows = [t for t in TRANSITIONS if t.action == action]
    roles = frozenset().union(*(r.roles for r in rows))
    return require(*roles, member_may=any(r.owner_may for r in rows))


Out = dict[str, Any]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandOut,
    responses=errors(409),
)
def raise_concern(
    body: ConcernIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(*RAISE_ROLES)],
    idem: IdempotencyDep,
    response: Response,
) -> Out:
    """Raise a concern: it starts in intake with a reference and a tracking code."""
    resident = body.resident or None
    data = ResidentData(
        name=(resident.name if resident else None) or None,
        phone=(resident.phone if resident else None) or None,
        address=body.address or (resident.address if resident else None) or None,
    )
    draft = NewConcern(
        title=body.title,
        description=body.description,
        category=body.category,
        library=body.library,
        channel=body.channel,
        grid=body.grid,
        building=body.building,
        priority_visit=body.priority_visit,
        resident=data,
        anonymous=body.anonymous,
        place=body.place,
        location=point_from(body.location.model_dump()) if body.location else None,
    )
    result = app.raise_concern(principal, draft, idem)
    response.headers["Location"] = f"/api/v1/concerns/{result.id}"
    return result.body()


@router.get("/{concern_ref}", **answers(ConcernOut, 404))
def get_concern(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(*VIEW_ROLES, member_may=True)],
    response: Response,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Moment | None = None,
    reveal: bool = False,
    reason: str | None = None,
) -> Out:
    """The concern now (or, for supervisors, as it was), with the caller's allowed actions."""
    cid = concern_id(app, concern_ref)
    if (as_of_version is not None or as_of is not None) and Role.SUPERVISOR not in principal.roles:
        raise Forbidden("as_of and as_of_version are for supervisors")
    concern = app.get_concern(cid)
    check_view(principal, concern)
    if as_of_version is not None or as_of is not None:
        version = as_of_version or app.version_at(cid, as_of or datetime.now(app.zone))
        if version == 0 or version > concern.version:
            raise NotFound("version of concern", f"{cid} as of {as_of_version or as_of}")
        concern = app.get_concern(cid, version=version)
    response.headers["ETag"] = f'"{concern.version}"'
    # Reveals to a supervisor with a reason, and logs every read of personal data.
    view = app.concern_view(concern, principal)
    # The open stage's clock runs now: a past version shows none.
    past = as_of_version is not None or as_of is not None
    view["stage"] = None if past else app.stage_of(concern)
    # The hotspots it is behind, each with the proactive concern on the committee's desk.
    view["hotspots"] = hotspots_of_concern(app.db, str(concern.id))
    return disclosure.disclose(app, principal, concern, view, reveal=reveal, reason=reason)


@router.get("/{concern_ref}/history", response_class=JSONResponse, **answers(HistoryOut, 404))
def history(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.SUPERVISOR, Role.STAFF)],
) -> JSONResponse:
    """Every event of the concern in order: version, type, time, actor, role and data."""
    cid = concern_id(app, concern_ref)
    events = app.history(cid)
    # The roles were checked above; the grid is fixed at Raised, so the events already read
    # answer the scope check without replaying the concern a second time.
    first = events[0]
    if first.get("unreadable") and principal.grids:
        # Raised no longer decodes: its grid, so the caller's scope, cannot be checked.
        raise UnreadableEvent(first["position"], cid, first["version"], first["stored_type"])
    if not first.get("unreadable"):
        check_grid(principal, first["data"]["grid"])
    # Which request recorded each event, to go from here to the request's log lines.
    tagged = request_events.requests_of(app.db, str(cid))
    for e in events:
        e["request_id"] = tagged.get(e["version"])
    # Plain data already: a JSONResponse skips FastAPI's re-encoding, which cost more than
    # reading a long history (bench/audit.py).
    return JSONResponse({"id": str(cid), "events": events})


@router.post("/{concern_ref}/refer", response_model=CommandOut, responses=COMMAND_ERRORS)
def refer(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.REFER)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> Out:
    """Refer the concern to the branch committee."""
    note = body.note if body else None
    return app.refer(concern_id(app, concern_ref), principal, note, if_match, idem).body()


@router.post("/{concern_ref}/handle-now", response_model=CommandOut, responses=COMMAND_ERRORS)
def handle_now(
    concern_ref: str,
    body: AssignmentIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.HANDLE_NOW)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Handle on receipt (即接即办): owner, duty role and due date at once."""
    return app.handle_now(
        concern_id(app, concern_ref),
        principal,
        body.owner,
        body.duty_role,
        body.due_on,
        body.note,
        if_match,
        idem,
    ).body()


@router.post("/{concern_ref}/decline", response_model=CommandOut, responses=COMMAND_ERRORS)
def decline(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.DECLINE)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Decline explicitly (明确拒办), with the reason the resident will be told."""
    return app.decline(concern_id(app, concern_ref), principal, body.reason, if_match, idem).body()


@router.post("/{concern_ref}/merge", response_model=CommandOut, responses=COMMAND_ERRORS)
def merge(
    concern_ref: str,
    body: MergeIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.MERGE_INTO)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Close the concern as a duplicate of another open concern."""
    return app.merge(
        concern_id(app, concern_ref), principal, body.into, body.note, if_match, idem
    ).body()


@router.post("/{concern_ref}/withdraw", response_model=CommandOut, responses=COMMAND_ERRORS)
def withdraw(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.WITHDRAW)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Withdraw the concern at the resident's request."""
    return app.withdraw(concern_id(app, concern_ref), principal, body.reason, if_match, idem).body()


@router.post("/{concern_ref}/return-for-info", response_model=CommandOut, responses=COMMAND_ERRORS)
def return_for_info(
    concern_ref: str,
    body: MissingIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.RETURN_FOR_INFO)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Send the concern back to intake, saying what is missing."""
    return app.return_for_info(
        concern_id(app, concern_ref), principal, body.missing, if_match, idem
    ).body()


@router.post("/{concern_ref}/assign", response_model=CommandOut, responses=COMMAND_ERRORS)
def assign(
    concern_ref: str,
    body: AssignmentIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.ASSIGN)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Name the owner, duty role and due date."""
    return app.assign(
        concern_id(app, concern_ref),
        principal,
        body.owner,
        body.duty_role,
        body.due_on,
        body.note,
        if_match,
        idem,
    ).body()


@router.post("/{concern_ref}/record-progress", response_model=CommandOut, responses=COMMAND_ERRORS)
def record_progress(
    concern_ref: str,
    body: ProgressIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.RECORD_PROGRESS)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Record what has been done so far."""
    return app.record_progress(
        concern_id(app, concern_ref), principal, body.note, if_match, idem
    ).body()


@router.post("/{concern_ref}/extend-deadline", response_model=CommandOut, responses=COMMAND_ERRORS)
def extend_deadline(
    concern_ref: str,
    body: ExtendIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.EXTEND_DEADLINE)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Move the due date later; the history keeps every due date."""
    return app.extend_deadline(
        concern_id(app, concern_ref), principal, body.due_on, body.reason, if_match, idem
    ).body()


@router.post("/{concern_ref}/reassign", response_model=CommandOut, responses=COMMAND_ERRORS)
def reassign(
    concern_ref: str,
    body: ReassignIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.REASSIGN)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Give the work to another member."""
    return app.reassign(
        concern_id(app, concern_ref),
        principal,
        body.owner,
        body.duty_role,
        body.reason,
        if_match,
        idem,
    ).body()


@router.post("/{concern_ref}/send-back", response_model=CommandOut, responses=COMMAND_ERRORS)
def send_back(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.SEND_BACK)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """The owner hands the concern back to the committee (退回)."""
    return app.send_back(
        concern_id(app, concern_ref), principal, body.reason, if_match, idem
    ).body()


@router.post("/{concern_ref}/resolve", response_model=CommandOut, responses=COMMAND_ERRORS)
def resolve(
    concern_ref: str,
    body: ResolveIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.RESOLVE)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Record what was done; the feedback clock starts."""
    return app.resolve(concern_id(app, concern_ref), principal, body.summary, if_match, idem).body()


@router.post("/{concern_ref}/record-feedback", response_model=CommandOut, responses=COMMAND_ERRORS)
def record_feedback(
    concern_ref: str,
    body: FeedbackIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.COLLECTOR, Role.STAFF)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Record the resident's answer (回访); not solved or dissatisfied reopens."""
    return app.record_feedback(
        concern_id(app, concern_ref),
        principal,
        body.solved,
        body.satisfaction,
        body.comment,
        if_match,
        idem,
    ).body()


@router.post("/{concern_ref}/reopen", response_model=CommandOut, responses=COMMAND_ERRORS)
def reopen(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.REOPEN)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Start a new round of work on a resolved concern."""
    return app.reopen(concern_id(app, concern_ref), principal, body.reason, if_match, idem).body()
