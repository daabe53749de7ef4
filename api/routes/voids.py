"""The void (作废) of a concern that did not meet the filing conditions:
/api/v1/concerns/{ref}/propose-void, /approve-void and /refuse-void."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import IdempotencyDep, IfMatchDep, MinqingDep, concern_id, require
from api.openapi import answers, errors
from api.schemas import CommandOut, ReasonIn
from domain.principal import Principal
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))


@router.post("/{concern_ref}/propose-void", **answers(CommandOut, 404, 409, 412, 422))
def propose_void(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.STAFF)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """Staff propose voiding the concern, with the reason (409 rule `pending` while one
    waits; a closed concern: 409 `transition_not_allowed`)."""
    cid = concern_id(app, concern_ref)
    return app.propose_void(cid, principal, body.reason, expected, idem).body()


@router.post("/{concern_ref}/approve-void", **answers(CommandOut, 404, 409, 412, 422))
def approve_void(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.SUPERVISOR)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """A supervisor approves the waiting proposal: the concern is closed as `voided` (409
    rule `no_proposal` when none waits)."""
    cid = concern_id(app, concern_ref)
    return app.approve_void(cid, principal, expected, idem).body()


@router.post("/{concern_ref}/refuse-void", **answers(CommandOut, 404, 409, 412, 422))
def refuse_void(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.SUPERVISOR)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """A supervisor refuses the waiting proposal, with a reason (409 rule `no_proposal`)."""
    cid = concern_id(app, concern_ref)
    return app.refuse_void(cid, principal, body.reason, expected, idem).body()
