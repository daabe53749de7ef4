"""The member registry: /api/v1/members."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from api.dates import Day
from api.deps import (
    IdempotencyDep,
    MinqingDep,
    Out,
    ProjectionsDep,
    SettingsDep,
    caught_up,
    require,
)
from api.openapi import answers, errors
from api.params import MinPosition
from api.responses import MemberList, MemberOut, PointsList, PointsOut
from api.schemas import CommandOut, MemberIn
from domain.errors import Invalid, NotFound
from domain.member import Member
from domain.principal import Principal
from domain.vocabulary import STAFF_ROLES, Role
from projections import member_points
from projections.member_points import MemberPoints, Period

router = APIRouter(prefix="/api/v1/members", tags=["members"], responses=errors(401, 403, 503))
# Every member's points, highest first: /api/v1/points.
points_router = APIRouter(
    prefix="/api/v1/points", tags=["members"], responses=errors(401, 403, 503)
)
Reader = Annotated[Principal, require(*STAFF_ROLES)]
Since = Annotated[Day | None, Query(alias="from", description="work on or after (YYYY-MM-DD)")]
Until = Annotated[Day | None, Query(alias="to", description="work on or before (YYYY-MM-DD)")]


def _view(m: Member) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "name": m.name,
        "grids": m.grids,
        "duty_roles": m.duty_roles,
        "votes_in_branch": m.votes_in_branch,
        "kind": m.kind,
        "organisation": m.organisation,
        "reported_on": m.reported_on.isoformat() if m.reported_on else None,
        "badge_number": m.badge_number,
        "shown_in_public": m.shown_in_public,
        "registered_at": m.registered_at.isoformat(),
        "version": m.version,
    }


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandOut,
    responses=errors(409),
)
def register_member(
    body: MemberIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.STAFF)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Add a member (name, grids, duty roles, whether they vote in the branch; an
    in-service member's organisation and report date, a volunteer's badge number)."""
    return app.register_member(
        principal,
        body.name,
        list(body.grids),
        list(body.duty_roles),
        body.votes_in_branch,
        idem,
        kind=body.kind.value,
        organisation=body.organisation,
        reported_on=body.reported_on,
        badge_number=body.badge_number,
    ).body()


@router.get("", **answers(MemberList))
def list_members(app: MinqingDep, _: Reader) -> dict[str, Any]:
    """Every member of the registry."""
    return {"items": [_view(m) for m in app.list_members()]}


@router.get("/{member_id}", **answers(MemberOut, 404))
def get_member(member_id: str, app: MinqingDep, _: Reader) -> dict[str, Any]:
    """One member."""
    return _view(app.get_member(_member_id(member_id)))


def _member_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise NotFound("member", text) from None


def _period(since: date | None, until: date | None) -> Period:
    if since and until and since > until:
        raise Invalid([("to", "must not be before from")])
    return Period(since, until)


@router.get("/{member_id}/points", **answers(PointsOut, 404))
def member_points_of(
    member_id: str,
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    _: Reader,
    since: Since = None,
    until: Until = None,
    min_position: MinPosition = None,
) -> Out:
    """A member's points (党员积分): visits, concerns collected, meetings attended and
    concerns resolved on time, each with its count and configured weight."""
    period = _period(since, until)
    member = app.get_member(_member_id(member_id))
    position = caught_up(runner, MemberPoints.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    points = member_points.points_of(app.db, member.id, member_points.weights(settings), period)
    return {
        "member_id": str(member.id),
        "name": member.name,
        **points,
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
        "position": position,
    }


@points_router.get("", **answers(PointsList))
def every_members_points(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    _: Reader,
    since: Since = None,
    until: Until = None,
    min_position: MinPosition = None,
) -> Out:
    """Every member's points, highest total first (then by name)."""
    period = _period(since, until)
    position = caught_up(runner, MemberPoints.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    weights = member_points.weights(settings)
    found = member_points.totals(app.db, weights, period)
    nothing = member_points.scored({}, weights)
    items = [
        {"member_id": str(m.id), "name": m.name, **found.get(str(m.id), nothing)}
        for m in app.list_members()
    ]
    items.sort(key=lambda i: (-i["total"], i["name"], i["member_id"]))
    return {
        "items": items,
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
        "position": position,
    }
