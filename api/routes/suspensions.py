"""Suspension (挂账) of a concern's work: /api/v1/concerns/{ref}/suspend (the owner asks),
/approve-suspension and /refuse-suspension (the committee), /resume (the owner or the
committee, by hand; the deadline watcher resumes at the until date by itself)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import IdempotencyDep, IfMatchDep, MinqingDep, concern_id, require
from api.openapi import answers, errors
from api.schemas import CommandOut, ReasonIn, SuspendIn
from domain.principal import Principal
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))


@router.post("/{concern_ref}/suspend", **answers(CommandOut, 404, 409, 412, 422))
def request_suspension(
    concern_ref: str,
    body: SuspendIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(member_may=True)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """The owner asks the committee to suspend the work until a date, with a reason (409
    `suspension_used` once one was approved, `pending` while one waits; 422 `until` in the
    past or beyond the maximum)."""
    cid = concern_id(app, concern_ref)
    return app.request_suspension(cid, principal, body.reason, body.until, expected, idem).body()


@router.post("/{concern_ref}/approve-suspension", **answers(CommandOut, 404, 409, 412))
def approve_suspension(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.COMMITTEE)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """The committee approves the waiting suspension: the stage's clock stops."""
    cid = concern_id(app, concern_ref)
    return app.approve_suspension(cid, principal, expected, idem).body()


@router.post("/{concern_ref}/refuse-suspension", **answers(CommandOut, 404, 409, 412, 422))
def refuse_suspension(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.COMMITTEE)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """The committee refuses the waiting suspension request, with a reason."""
    cid = concern_id(app, concern_ref)
    return app.refuse_suspension(cid, principal, body.reason, expected, idem).body()


@router.post("/{concern_ref}/resume", **answers(CommandOut, 404, 409, 412))
def resume(
    concern_ref: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.COMMITTEE, member_may=True)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """Resume a suspended concern by hand: the clock runs again and the due date moves
    later by the time suspended (409 `not_suspended` otherwise)."""
    cid = concern_id(app, concern_ref)
    return app.resume(cid, principal, expected, idem).body()
