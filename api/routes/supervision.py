"""Graded supervision (督办) of a concern: /api/v1/concerns/{ref}/supervise and
/reply-supervision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import IdempotencyDep, IfMatchDep, MinqingDep, concern_id, require
from api.openapi import answers, errors
from api.schemas import CommandOut, ReplyIn, SuperviseIn
from domain.principal import Principal
from domain.supervision import Grade
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))


@router.post("/{concern_ref}/supervise", **answers(CommandOut, 404, 409, 412, 422))
def supervise(
    concern_ref: str,
    body: SuperviseIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.SUPERVISOR)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """Issue a yellow or red supervision card (督办) with a requirement and a reply date
    (supervisor); the owner must reply."""
    cid = concern_id(app, concern_ref)
    result = app.supervise(
        cid, principal, Grade(body.grade), body.requirement, body.reply_by, expected, idem
    )
    return result.body()


@router.post("/{concern_ref}/reply-supervision", **answers(CommandOut, 404, 409, 412, 422))
def reply_supervision(
    concern_ref: str,
    body: ReplyIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(member_may=True)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """The owner's reply to the earliest supervision card waiting for one."""
    cid = concern_id(app, concern_ref)
    return app.reply_supervision(cid, principal, body.reply, expected, idem).body()
