"""Similar concerns while one is being recorded: /api/v1/concerns/similar."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import MinqingDep, Out, ProjectionsDep, caught_up, require
from api.openapi import answers, errors
from api.params import MinPosition
from domain.errors import Invalid, NotFound
from domain.geo import Point, point_from
from domain.permissions import VIEW_ROLES, check_grid
from domain.principal import Principal
from domain.vocabulary import Category
from projections.concern_places import DEFAULT_RADIUS_M, ConcernPlaces, SimilarQuery, similar

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"], responses=errors(401, 403, 503))


class SimilarItem(BaseModel):
    id: str
    reference: str
    title: str
    status: str
    score: float
    distance_m: int | None = None


class SimilarOut(BaseModel):
    """At most five open concerns likely to be the same matter, most alike first."""

    items: list[SimilarItem]


def _point(lat: float | None, lng: float | None, datum: str) -> Point | None:
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise Invalid([("lat" if lat is None else "lng", "lat and lng go together")])
    return point_from({"lat": lat, "lng": lng}, "lat", datum=datum)


@router.get("/similar", **answers(SimilarOut))
def similar_concerns(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*VIEW_ROLES)],
    title: Annotated[str, Query(max_length=200)] = "",
    description: Annotated[str, Query(max_length=5000)] = "",
    category: Category | None = None,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    place: UUID | None = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
    datum: Annotated[str, Query(pattern="^(wgs84|gcj02)$")] = "wgs84",
    radius_m: Annotated[int, Query(ge=10, le=2000)] = DEFAULT_RADIUS_M,
    min_position: MinPosition = None,
) -> Out:
    """Open, recent concerns of the same category at the same place or within `radius_m`
    (250 m) of the point, most alike in words first (at most five): join one instead of
    recording the same matter again."""
    if grid:
        check_grid(principal, grid)
    point = _point(lat, lng, datum)
    if point is None and place is not None:
        try:
            point = app.get_place(place).location
        except NotFound:  # an unknown place: no point to measure from
            point = None
    query = SimilarQuery(
        title=title,
        description=description,
        category=category.value if category else None,
        grid=grid,
        place=str(place) if place else None,
        point=point,
        radius_m=radius_m,
        scope=principal.grids,
    )
    if not isinstance(waited := caught_up(runner, ConcernPlaces.name, min_position), int):
        return waited
    if not (title.strip() or description.strip()):
        return {"items": []}
    return {"items": similar(app.db, query, datetime.now(app.zone))}
