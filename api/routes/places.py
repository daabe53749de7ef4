"""The places register and the grids' boundaries: /api/v1/places, /api/v1/grids."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, status

from api.deps import IdempotencyDep, MinqingDep, require
from api.openapi import answers, errors
from api.place_schemas import BoundaryIn, BoundaryOut, PlaceIn, PlaceList, PlaceOut, PlacePatch
from api.schemas import CommandOut, Short
from domain.errors import NotFound
from domain.geo import point_from
from domain.permissions import VIEW_ROLES, check_grid
from domain.place import Place
from domain.principal import Principal
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/places", tags=["places"], responses=errors(401, 403, 503))
grids_router = APIRouter(prefix="/api/v1/grids", tags=["places"], responses=errors(401, 403, 503))
Editor = Annotated[Principal, require(Role.ADMIN, Role.STAFF)]


def place_view(p: Place) -> dict[str, Any]:
    """A place as the API shows it."""
    return {
        "id": str(p.id),
        "grid": p.grid,
        "name": p.name,
        "kind": p.kind,
        "point": p.point,
        "office": p.office,
        "version": p.version,
        "registered_at": p.registered_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }


@router.get("", **answers(PlaceList))
def list_places(app: MinqingDep, principal: Editor, grid: Short | None = None) -> dict[str, Any]:
    """The places of the caller's grids (of one grid if `grid` is given)."""
    places = app.list_places(principal.grids or None)
    return {"items": [place_view(p) for p in places if grid is None or p.grid == grid]}


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=CommandOut, responses=errors(409)
)
def register_place(
    body: PlaceIn, app: MinqingDep, principal: Editor, idem: IdempotencyDep
) -> dict[str, Any]:
    """Add a place to a grid's register (a point outside the grid is refused, 422 `point`)."""
    point = point_from(body.point.model_dump(), "point") if body.point else None
    return app.register_place(
        principal, body.grid, body.name, body.kind, point, body.office, idem
    ).body()


@router.get("/{place_id}", **answers(PlaceOut, 404))
def get_place(place_id: UUID, app: MinqingDep, principal: Editor) -> dict[str, Any]:
    """One place of the register."""
    place = app.get_place(place_id)
    check_grid(principal, place.grid)
    return place_view(place)


@router.patch("/{place_id}", response_model=CommandOut, responses=errors(404, 409))
def change_place(
    place_id: UUID, body: PlacePatch, app: MinqingDep, principal: Editor, idem: IdempotencyDep
) -> dict[str, Any]:
    """Change a place's name, kind, point or office flag (only the fields sent)."""
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "point":
            changes["point"] = point_from(value.model_dump(), "point") if value else None
        elif value is not None:
            changes[name] = value
    return app.change_place(place_id, principal, changes, idem).body()


@grids_router.get("/{grid}/boundary", **answers(BoundaryOut, 404))
def get_boundary(
    grid: Short, app: MinqingDep, _: Annotated[Principal, require(*VIEW_ROLES)]
) -> dict[str, Any]:
    """The grid's boundary as a GeoJSON Feature (WGS-84)."""
    boundary = app.boundary_of(grid)
    if boundary is None:
        raise NotFound("boundary of grid", grid)
    return {
        "type": "Feature",
        "properties": {"grid": boundary.grid, "updated_at": boundary.updated_at.isoformat()},
        "geometry": boundary.geometry,
    }


@grids_router.put("/{grid}/boundary", response_model=CommandOut, responses=errors(404, 409))
def draw_boundary(
    grid: Short,
    body: BoundaryIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.ADMIN)],
) -> dict[str, Any]:
    """Set the grid's boundary from a GeoJSON Feature, Polygon or MultiPolygon (admins)."""
    return app.draw_boundary(principal, grid, body.as_geometry()).body()
