"""In-service members and volunteers at work (在职党员进社区): posts (/api/v1/posts), claims,
service records (/api/v1/service-records), the community's feedback on a member
(/api/v1/members/{id}/feedback) and the evaluation of a period (/api/v1/evaluations)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.dates import Day
from api.deps import IdempotencyDep, MinqingDep, ProjectionsDep, SettingsDep, caught_up, require
from api.evaluation_export import to_csv, to_xlsx
from api.evaluations_data import evaluate
from api.openapi import answers, errors
from api.params import MinPosition
from api.registers import XLSX_TYPE
from api.responses_service import EvaluationList, PostList
from api.schemas import CommandOut, Note, Place, Short, Title
from domain.errors import NotFound
from domain.principal import Principal
from domain.service import Period, Post, Rating
from domain.vocabulary import STAFF_ROLES, Role
from projections.member_points import MemberPoints

router = APIRouter(prefix="/api/v1", tags=["service"], responses=errors(401, 403, 503))
Out = dict[str, Any] | Response


class PostIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "环境维护岗", "grid": "2", "duties": "清理广场杂草", "seats": 8}]
        },
    )

    name: Title
    grid: Short
    duties: Place = ""
    seats: int = Field(ge=1, le=500)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: UUID


class ServiceRecordIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "member": "3f2b9c1e-0000-4000-8000-000000000001",
                    "date": "2026-03-28",
                    "hours": 3,
                    "what": "西山社区广场除草",
                }
            ]
        },
    )

    member: UUID
    post: UUID | None = None
    date: Day
    hours: float = Field(gt=0, le=24)
    what: Title


class MemberFeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Short
    rating: Rating
    comment: Note | None = None


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


def _uuid(kind: str, raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(kind, raw) from None


def _post_view(p: Post) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "name": p.name,
        "grid": p.grid,
        "duties": p.duties,
        "seats": p.seats,
        "claimed": len(p.holders),
        "members": [str(m) for m in p.holders],
        "version": p.version,
    }


@router.post(
    "/posts", status_code=status.HTTP_201_CREATED, response_model=CommandOut, responses=errors(409)
)
def set_post(
    body: PostIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.STAFF, Role.ADMIN)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Set a post (设岗): name, grid, duties, seats."""
    return app.set_post(principal, body.name, body.grid, body.duties, body.seats, idem).body()


@router.get("/posts", **answers(PostList))
def list_posts(
    app: MinqingDep, _: Annotated[Principal, require(*STAFF_ROLES, Role.MEMBER)]
) -> dict[str, Any]:
    """Every post with its seats and the members who claimed them."""
    return {"items": [_post_view(p) for p in app.list_posts()]}


@router.post(
    "/posts/{post_id}/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandOut,
    responses=errors(404, 409),
)
def claim_post(
    post_id: str,
    body: ClaimIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.STAFF, Role.ADMIN, member_may=True)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """A member claims a seat (认岗): the member or staff; 409 `post_full` when taken."""
    return app.claim_post(_uuid("post", post_id), principal, body.member, idem).body()


@router.post(
    "/service-records",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandOut,
    responses=errors(404, 409),
)
def record_service(
    body: ServiceRecordIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.STAFF, Role.ADMIN, member_may=True)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Record a member's service (顶岗): member, post?, date, hours, what."""
    return app.record_service(
        principal, body.member, body.post, body.date, body.hours, body.what, idem
    ).body()


@router.post(
    "/members/{member_id}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandOut,
    responses=errors(404, 409),
)
def give_feedback(
    member_id: str,
    body: MemberFeedbackIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.STAFF, Role.COMMITTEE)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """The community's feedback on how a member served in a period (2026H2 or 2026)."""
    return app.give_feedback(
        _uuid("member", member_id), principal, body.period, body.rating, body.comment, idem
    ).body()


@router.get(
    "/evaluations",
    **answers(
        EvaluationList,
        422,
        content={
            "text/csv": {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    ),
)
def evaluations(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*STAFF_ROLES, Role.SUPERVISOR)],
    period: Annotated[str, Query(max_length=10, description="2026H1, 2026H2 or 2026")],
    organisation: Annotated[Place | None, Query(description="only this organisation")] = None,
    format: Format = Format.JSON,
    min_position: MinPosition = None,
) -> Out:
    """Each member's evaluation for the half-year or year (半年初评、年终总评): hours served,
    posts held, concerns resolved on time, points and the community's feedback."""
    chosen = Period.parse(period)
    position = caught_up(runner, MemberPoints.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    items = evaluate(app, settings, principal, chosen, organisation)
    if format is Format.CSV:
        return Response(
            to_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="evaluations-{chosen.name}.csv"'
            },
        )
    if format is Format.XLSX:
        return Response(
            to_xlsx(items, chosen.name),
            media_type=XLSX_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="evaluations-{chosen.name}.xlsx"'
            },
        )
    return {
        "period": chosen.name,
        "from": chosen.first.isoformat(),
        "to": chosen.last.isoformat(),
        "items": items,
        "position": position,
    }
