"""The commitment (承诺) on a concern: its milestones and writing it off once fulfilled
(/api/v1/concerns/{id}/milestones, …/write-off); and a member's consent to be shown by name
on the public board (/api/v1/members/{id}/public-identity, 党员亮身份)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict

from api.deps import IdempotencyDep, IfMatchDep, MinqingDep, PrincipalDep, concern_id, require
from api.openapi import errors
from api.schemas import CommandOut, MilestoneIn, NoteIn
from domain.errors import NotFound
from domain.lifecycle import TRANSITIONS, Action
from domain.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["commitments"], responses=errors(401, 403, 503))
COMMAND_ERRORS = errors(404, 409, 412)
Out = dict[str, Any]


def may(action: Action) -> Any:
    """The roles the transition table gives `action`, checked before the body is used."""
    rows = [t for t in TRANSITIONS if t.action == action]
    roles = frozenset().union(*(r.roles for r in rows))
    return require(*roles, member_may=any(r.owner_may for r in rows))


class MilestoneOut(CommandOut):
    """The command's answer with the new milestone's id."""

    milestone_id: str


class PublicIdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"shown": True}]})

    shown: bool


def _uuid(kind: str, raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(kind, raw) from None


@router.post(
    "/concerns/{concern_ref}/milestones",
    status_code=status.HTTP_201_CREATED,
    response_model=MilestoneOut,
    responses=COMMAND_ERRORS,
)
def add_milestone(
    concern_ref: str,
    body: MilestoneIn,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.ADD_MILESTONE)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
) -> Out:
    """Add a milestone (承诺节点) to an assigned concern: what is to be done by when."""
    ident = concern_id(app, concern_ref)
    return app.add_milestone(ident, principal, body.title, body.due_on, if_match, idem).body()


@router.post(
    "/concerns/{concern_ref}/milestones/{milestone_id}/done",
    response_model=CommandOut,
    responses=COMMAND_ERRORS,
)
def complete_milestone(
    concern_ref: str,
    milestone_id: str,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.COMPLETE_MILESTONE)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> Out:
    """Mark one of the commitment's milestones done, with an optional note."""
    note = body.note if body else None
    return app.complete_milestone(
        concern_id(app, concern_ref),
        principal,
        _uuid("milestone", milestone_id),
        note,
        if_match,
        idem,
    ).body()


@router.post(
    "/concerns/{concern_ref}/write-off", response_model=CommandOut, responses=COMMAND_ERRORS
)
def write_off(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, may(Action.WRITE_OFF)],
    idem: IdempotencyDep,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> Out:
    """Write the fulfilled commitment off (注销); 409 before it is fulfilled."""
    note = body.note if body else None
    return app.write_off(concern_id(app, concern_ref), principal, note, if_match, idem).body()


@router.post(
    "/members/{member_id}/public-identity",
    response_model=CommandOut,
    responses=errors(404, 409),
)
def set_public_identity(
    member_id: str,
    body: PublicIdentityIn,
    app: MinqingDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> Out:
    """Whether the member is shown by name on the public board (党员亮身份): the member
    themselves or staff."""
    return app.set_public_identity(_uuid("member", member_id), principal, body.shown, idem).body()
