"""The member registry: /api/v1/members."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, status

from api.deps import IdempotencyDep, MinqingDep, require
from api.schemas import CommandOut, MemberIn
from domain.accounts import Principal
from domain.errors import NotFound
from domain.member import Member
from domain.vocabulary import STAFF_ROLES, Role

router = APIRouter(prefix="/api/v1/members", tags=["members"])
Reader = Annotated[Principal, require(*STAFF_ROLES)]


def _view(m: Member) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "name": m.name,
        "grids": m.grids,
        "duty_roles": m.duty_roles,
        "votes_in_branch": m.votes_in_branch,
        "registered_at": m.registered_at.isoformat(),
        "version": m.version,
    }


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CommandOut)
def register_member(
    body: MemberIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.STAFF)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Add a member (name, grids, duty roles, whether they vote in the branch)."""
    return app.register_member(
        principal, body.name, list(body.grids), list(body.duty_roles), body.votes_in_branch, idem
    ).body()


@router.get("")
def list_members(app: MinqingDep, _: Reader) -> dict[str, Any]:
    """Every member of the registry."""
    return {"items": [_view(m) for m in app.list_members()]}


@router.get("/{member_id}")
def get_member(member_id: str, app: MinqingDep, _: Reader) -> dict[str, Any]:
    """One member."""
    try:
        ident = UUID(member_id)
    except ValueError:
        raise NotFound("member", member_id) from None
    return _view(app.get_member(ident))
