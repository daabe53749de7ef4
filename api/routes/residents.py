"""Residents' personal data: /api/v1/residents (erasure)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import MinqingDep, require
from api.openapi import answers, errors
from api.responses import ErasureOut
from application.residents import erase_personal_data
from domain.principal import Principal
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/residents", tags=["residents"], responses=errors(401, 403, 503))


@router.post("/{resident_ref}/erase", **answers(ErasureOut, 404, 409))
def erase(
    resident_ref: str, app: MinqingDep, principal: Annotated[Principal, require(Role.ADMIN)]
) -> dict[str, Any]:
    """Crypto-erase a resident's personal data: their key is destroyed, the log records it."""
    return erase_personal_data(app, principal, resident_ref).body()
