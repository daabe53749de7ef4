"""The concern list and the work queues, read from the concern-list projection.

Every endpoint here accepts `min_position` (a command's `position`): it waits up to 2 s for
the projection to reach it, so a client reads its own writes, and answers 503 with the
projection's current position if it has not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.dates import Moment
from api.deps import MinqingDep, Out, ProjectionsDep, caught_up, require
from api.openapi import answers, errors
from api.params import CursorParam, Limit, MinPosition
from api.responses import ConcernPage
from application.minqing import Minqing
from domain.errors import Forbidden
from domain.lifecycle import Status
from domain.permissions import VIEW_ROLES, check_grid
from domain.principal import Principal
from domain.vocabulary import STAFF_ROLES, Category, Library, Role
from projections import concerns as concern_list
from projections.concerns import DEFAULT_LIMIT, ConcernList, ConcernQuery, Order
from projections.register_as_of import register_as_of
from projections.runner import ProjectionRunner

router = APIRouter(
    prefix="/api/v1", tags=["concern list and queues"], responses=errors(401, 403, 503)
)


def _page(
    app: Minqing,
    runner: ProjectionRunner,
    query: ConcernQuery,
    order: Order,
    cursor: str | None,
    limit: int,
    min_position: int | None,
) -> Out:
    position = caught_up(runner, ConcernList.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    page = concern_list.list_concerns(
        app.db,
        query,
        today=app.clock().date(),
        zone=app.zone,
        order=order,
        cursor=cursor,
        limit=limit,
        stages=app.row_stage_reader(),
    )
    return {"items": page.items, "next_cursor": page.next_cursor, "position": position}


@router.get("/concerns", **answers(ConcernPage))
def list_concerns(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*VIEW_ROLES)],
    status: Annotated[list[Status] | None, Query()] = None,
    category: Annotated[list[Category] | None, Query()] = None,
    library: Annotated[list[Library] | None, Query()] = None,
    grid: Annotated[list[str] | None, Query()] = None,
    owner: UUID | None = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="words in title or text")] = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
    as_of: Annotated[
        Moment | None,
        Query(
            description="supervisors: the register as it stood at this time, read from the"
            " log (one pass over it per request)"
        ),
    ] = None,
) -> Out:
    """A page of concern summaries, newest first, filtered; only the caller's grids.

    With `as_of` (supervisors) the page is the register as it stood then: the concern list
    folded again from every concern event recorded up to that time (not today's tables),
    with the same items, filters and cursors; `overdue` is judged on that day.
    """
    for g in grid or []:
        check_grid(principal, g)
    if as_of is not None and Role.SUPERVISOR not in principal.roles:
        raise Forbidden("as_of is for supervisors")
    query = ConcernQuery(
        statuses=[s.value for s in status or []],
        categories=[c.value for c in category or []],
        libraries=[lib.value for lib in library or []],
        grids=grid or [],
        owner=str(owner) if owner else None,
        overdue=overdue,
        q=q,
        scope=principal.grids,
    )
    if as_of is not None:
        return _page_as_of(app, query, as_of, cursor, limit)
    return _page(app, runner, query, Order.NEWEST, cursor, limit, min_position)


def _page_as_of(
    app: Minqing, query: ConcernQuery, as_of: datetime, cursor: str | None, limit: int
) -> Out:
    moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=app.zone)
    with register_as_of(app, moment) as past:
        page = concern_list.list_concerns(
            past.db,
            query,
            today=moment.astimezone(app.zone).date(),
            zone=app.zone,
            cursor=cursor,
            limit=limit,
        )
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "position": past.position,
        "as_of": moment.isoformat(),
    }


def _queue(
    name: str,
    app: Minqing,
    runner: ProjectionRunner,
    principal: Principal,
    cursor: str | None,
    limit: int,
    min_position: int | None,
) -> Out:
    query, order = concern_list.queue_query(name, principal.member_id, principal.grids)
    return _page(app, runner, query, order, cursor, limit, min_position)


@router.get("/queues/triage", **answers(ConcernPage))
def triage_queue(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*STAFF_ROLES)],
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """Concerns in intake waiting for triage, oldest first."""
    return _queue("triage", app, runner, principal, cursor, limit, min_position)


@router.get("/queues/committee", **answers(ConcernPage))
def committee_queue(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*STAFF_ROLES)],
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """Concerns with the branch committee, oldest first."""
    return _queue("committee", app, runner, principal, cursor, limit, min_position)


@router.get("/queues/mine", **answers(ConcernPage))
def my_queue(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*STAFF_ROLES, member_may=True)],
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """The caller's own assignments (as the member they are linked to), earliest due first."""
    return _queue("mine", app, runner, principal, cursor, limit, min_position)


@router.get("/queues/overdue", **answers(ConcernPage))
def overdue_queue(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*STAFF_ROLES)],
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """Assigned concerns past their due date, the longest overdue first."""
    return _queue("overdue", app, runner, principal, cursor, limit, min_position)


@router.get("/queues/supervised", **answers(ConcernPage))
def supervised_queue(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*STAFF_ROLES, Role.SUPERVISOR)],
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """Open concerns that have had a supervision card (督办), earliest due first."""
    return _queue("supervised", app, runner, principal, cursor, limit, min_position)
