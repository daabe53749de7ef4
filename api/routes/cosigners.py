"""Co-signers: a resident joins a concern already recorded, /api/v1/concerns/{id}/cosigners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, status

from api.deps import IdempotencyDep, MinqingDep, concern_id, require
from api.openapi import errors
from api.schemas import CommandOut, CosignerIn
from domain.lifecycle import RAISE_ROLES
from domain.principal import Principal
from domain.residents import ResidentData


class CosignedOut(CommandOut):
    """The concern after the resident joined it."""

    residents_count: int


router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))


@router.post(
    "/{concern_ref}/cosigners",
    status_code=status.HTTP_201_CREATED,
    response_model=CosignedOut,
    responses=errors(404, 409),
)
def add_cosigner(
    concern_ref: str,
    body: CosignerIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(*RAISE_ROLES)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Join this concern: the resident is added as a co-signer (their data sealed as on a
    new concern) and the concern's `residents_count` grows by one."""
    resident = body.resident
    data = ResidentData(
        name=(resident.name if resident else None) or None,
        phone=(resident.phone if resident else None) or None,
        address=(resident.address if resident else None) or None,
    )
    cid = concern_id(app, concern_ref)
    return app.add_cosigner(cid, principal, data, body.anonymous, body.channel, idem).body()
