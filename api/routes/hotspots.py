"""Hotspots: places (or cells) and categories the same concerns keep coming from."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.dates import Day
from api.deps import MinqingDep, Out, ProjectionsDep, caught_up, require
from api.openapi import answers, errors
from api.params import MinPosition
from api.schemas import Page
from domain.permissions import VIEW_ROLES, check_grid
from domain.principal import Principal
from domain.vocabulary import Category
from projections.hotspots import HotspotQuery, Hotspots, hotspots

router = APIRouter(prefix="/api/v1/hotspots", tags=["hotspots"], responses=errors(401, 403, 503))


@router.get("", **answers(Page))
def list_hotspots(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*VIEW_ROLES)],
    grid: Annotated[str | None, Query(max_length=64)] = None,
    category: Category | None = None,
    since: Annotated[Day | None, Query(alias="from")] = None,
    until: Annotated[Day | None, Query(alias="to")] = None,
    min_position: MinPosition = None,
) -> Out:
    """Hotspots in the caller's grids: at least 3 concerns of a category at one place (or
    cell) within 30 days, each with its concerns and, once recorded, its proactive concern
    (docs/patterns.md)."""
    if grid:
        check_grid(principal, grid)
    if not isinstance(waited := caught_up(runner, Hotspots.name, min_position), int):
        return waited
    query = HotspotQuery(
        grid=grid,
        category=category.value if category else None,
        since=datetime.combine(since, time.min, app.zone) if since else None,
        until=datetime.combine(until, time.max, app.zone) if until else None,
        scope=principal.grids,
    )
    items: list[dict[str, Any]] = hotspots(app.db, query)
    return {"items": items}
