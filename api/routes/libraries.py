"""The four libraries: hardship, problem and suggestion (the concerns filed in each) and the
achievement library (成果库), which is also published without a token at /public/achievements.

Every endpoint accepts `min_position` (a command's `position`), as the concern list does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.dates import Day
from api.deps import (
    MinqingDep,
    Out,
    ProjectionsDep,
    RateLimitDep,
    SettingsDep,
    caught_up,
    require,
)
from api.openapi import answers, errors
from api.params import CursorParam, Limit, MinPosition
from api.responses import ConcernPage
from api.responses_registers import AchievementPage
from application.minqing import Minqing
from domain.errors import NotFound
from domain.lifecycle import Status
from domain.permissions import check_grid
from domain.principal import Principal
from domain.vocabulary import STAFF_ROLES, Category, Library
from projections import achievements
from projections.achievements import AchievementQuery, Achievements
from projections.concern_places import ConcernPlaces
from projections.concerns import DEFAULT_LIMIT, ConcernList, ConcernQuery, Order, list_concerns
from projections.runner import ProjectionRunner

router = APIRouter(prefix="/api/v1/libraries", tags=["libraries"], responses=errors(401, 403, 503))
public_router = APIRouter(
    prefix="/public", tags=["public"], dependencies=[RateLimitDep], responses=errors(429, 503)
)

Staff = Annotated[Principal, require(*STAFF_ROLES)]
Categories = Annotated[list[Category] | None, Query()]
Grids = Annotated[list[str] | None, Query()]
Since = Annotated[Day | None, Query(alias="from", description="resolved on or after (YYYY-MM-DD)")]
Until = Annotated[Day | None, Query(alias="to", description="resolved on or before (YYYY-MM-DD)")]


def _achievements(
    app: Minqing,
    runner: ProjectionRunner,
    query: AchievementQuery,
    cursor: str | None,
    limit: int,
    min_position: int | None,
    cell_m: int,
) -> Out:
    position = caught_up(runner, Achievements.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    # The entries' cells come from concern_places: caught up to the same position.
    places = caught_up(runner, ConcernPlaces.name, min_position)
    if isinstance(places, JSONResponse):
        return places
    page = achievements.list_achievements(
        app.db, query, zone=app.zone, cursor=cursor, limit=limit, cell_m=cell_m
    )
    return {"items": page.items, "next_cursor": page.next_cursor, "position": position}


@router.get("/achievement", **answers(AchievementPage))
def achievement_library(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    principal: Staff,
    category: Categories = None,
    grid: Grids = None,
    since: Since = None,
    until: Until = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """The achievement library, newest first: resolved concerns and adopted suggestions in
    the caller's grids."""
    for g in grid or []:
        check_grid(principal, g)
    query = AchievementQuery(
        categories=[c.value for c in category or []],
        grids=grid or [],
        since=since,
        until=until,
        scope=principal.grids,
    )
    return _achievements(app, runner, query, cursor, limit, min_position, settings.public_cell_m)


@router.get("/{library}", **answers(ConcernPage, 404))
def library_concerns(
    library: str,
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Staff,
    status: Annotated[list[Status] | None, Query()] = None,
    category: Categories = None,
    grid: Grids = None,
    q: Annotated[str | None, Query(max_length=200, description="words in title or text")] = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """The concerns filed in one library (hardship, problem, suggestion), newest first,
    filtered; only the caller's grids."""
    if library not in {lib.value for lib in Library}:
        raise NotFound("library", library)
    for g in grid or []:
        check_grid(principal, g)
    position = caught_up(runner, ConcernList.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    query = ConcernQuery(
        statuses=[s.value for s in status or []],
        categories=[c.value for c in category or []],
        libraries=[library],
        grids=grid or [],
        q=q,
        scope=principal.grids,
    )
    page = list_concerns(
        app.db,
        query,
        today=app.clock().date(),
        zone=app.zone,
        order=Order.NEWEST,
        cursor=cursor,
        limit=limit,
        stages=app.row_stage_reader(),
    )
    return {"items": page.items, "next_cursor": page.next_cursor, "position": position}


@public_router.get("/achievements", **answers(AchievementPage))
def public_achievements(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    category: Categories = None,
    grid: Grids = None,
    since: Since = None,
    until: Until = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> Out:
    """The achievement library as the community publishes it: no token, nothing personal."""
    query = AchievementQuery(
        categories=[c.value for c in category or []],
        grids=grid or [],
        since=since,
        until=until,
    )
    return _achievements(app, runner, query, cursor, limit, min_position, settings.public_cell_m)
