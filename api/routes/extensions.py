"""Extensions (延期) of a concern's due date: /api/v1/concerns/{ref}/request-extension and
/refuse-extension (the approval is /extend-deadline, api/routes/concerns.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import IdempotencyDep, IfMatchDep, MinqingDep, concern_id, require
from api.openapi import answers, errors
from api.schemas import CommandOut, ReasonIn
from domain.principal import Principal
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))


@router.post("/{concern_ref}/request-extension", **answers(CommandOut, 404, 409, 412, 422))
def request_extension(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(member_may=True)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """The owner asks the committee for more time, with a reason (409 `extension_cap`
    after MINQING_EXTENSION_CAP approvals this round (2), `already_overdue` once the due
    date has passed, `suspended` while suspended)."""
    cid = concern_id(app, concern_ref)
    return app.request_extension(cid, principal, body.reason, expected, idem).body()


@router.post("/{concern_ref}/refuse-extension", **answers(CommandOut, 404, 409, 412, 422))
def refuse_extension(
    concern_ref: str,
    body: ReasonIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.COMMITTEE)],
    idem: IdempotencyDep,
    expected: IfMatchDep,
) -> dict[str, Any]:
    """The committee refuses the waiting extension request, with a reason."""
    cid = concern_id(app, concern_ref)
    return app.refuse_extension(cid, principal, body.reason, expected, idem).body()
