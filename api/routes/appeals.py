"""The appeal of an overdue stage (超期申诉): /api/v1/concerns/{ref}/appeal and
/decide-appeal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import IdempotencyDep, IfMatchDep, MinqingDep, concern_id, require
from api.openapi import answers, errors
from api.schemas import AppealIn, CommandOut, DecideAppealIn
from domain.principal import Principal
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))


@router.post("/{concern_ref}/appeal", **answers(CommandOut, 404, 409, 412, 422))
def appeal(
    concern_ref: str,
    body: AppealIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(member_may=True)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """The owner appeals a stage recorded overdue, after resolution, once per concern (409
    rule `appeal_used` the second time)."""
    cid = concern_id(app, concern_ref)
    return app.appeal(cid, principal, body.stage, body.reason, expected, idem).body()


@router.post("/{concern_ref}/decide-appeal", **answers(CommandOut, 404, 409, 412, 422))
def decide_appeal(
    concern_ref: str,
    body: DecideAppealIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.SUPERVISOR)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """A supervisor approves (the stage is exempted, the overdue fact stays) or refuses."""
    cid = concern_id(app, concern_ref)
    return app.decide_appeal(cid, principal, body.approved, body.reason, expected, idem).body()
