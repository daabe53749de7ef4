"""The places register (buildings, courtyards, roads, facilities of each grid) and the grids'
boundaries, both edited by admins and staff."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.geo import Point, contains, polygons_of

NAME_MAX = 100
GRID_MAX = 64


class PlaceKind(StrEnum):
    """What a place is."""

    BUILDING = "building"
    COURTYARD = "courtyard"
    ROAD = "road"
    FACILITY = "facility"


def _name(value: str | None, field: str = "name", limit: int = NAME_MAX) -> str:
    clean = (value or "").strip()
    if not clean:
        raise Invalid([(field, "is required and must not be blank")])
    if len(clean) > limit:
        raise Invalid([(field, f"must be at most {limit} characters")])
    return clean


class Place(Aggregate):
    """One place of a grid, with an optional WGS-84 point."""

    @event("Registered")
    def __init__(
        self,
        *,
        grid: str,
        name: str,
        kind: str,
        point: dict[str, float] | None,
        office: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.grid = grid
        self.name = name
        self.kind = kind
        self.point = point
        # The office's own address: concerns filed there are not a hotspot of the place.
        self.office = office
        self.registered_at = at
        self.updated_at = at

    @classmethod
    def register(
        cls,
        *,
        grid: str,
        name: str,
        kind: PlaceKind,
        point: Point | None,
        office: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> Place:
        """Add a place to the register."""
        return cls(
            grid=_name(grid, "grid", GRID_MAX),
            name=_name(name),
            kind=kind.value,
            point=point.as_dict() if point else None,
            office=office,
            actor_id=actor_id,
            actor_role=actor_role,
            at=at,
        )

    @property
    def location(self) -> Point | None:
        """The place's point, if it has one."""
        return Point(self.point["lat"], self.point["lng"]) if self.point else None

    def change(self, changes: dict[str, Any], actor_id: str, actor_role: str, at: datetime) -> None:
        """Change the name, kind, point or office flag (only the fields given)."""
        clean: dict[str, Any] = {}
        if "name" in changes:
            clean["name"] = _name(changes["name"])
        if "kind" in changes:
            clean["kind"] = PlaceKind(changes["kind"]).value
        if "point" in changes:
            point = changes["point"]
            clean["point"] = point.as_dict() if isinstance(point, Point) else None
        if "office" in changes:
            clean["office"] = bool(changes["office"])
        clean = {k: v for k, v in clean.items() if getattr(self, k) != v}
        if clean:
            self._changed(clean, actor_id, actor_role, at)

    @event("Changed")
    def _changed(
        self, changes: dict[str, Any], actor_id: str, actor_role: str, at: datetime
    ) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_at = at


def boundary_id(grid: str) -> UUID:
    """The one boundary aggregate of a grid (a name-based UUID: found without an index)."""
    return uuid5(NAMESPACE_URL, f"minqing:grid-boundary:{grid}")


class GridBoundary(Aggregate):
    """A grid's boundary, a GeoJSON Polygon or MultiPolygon in WGS-84."""

    @staticmethod
    def create_id(grid: str, **_: Any) -> UUID:
        return boundary_id(grid)

    @event("Drawn")
    def __init__(
        self, *, grid: str, geometry: dict[str, Any], actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.grid = grid
        self.geometry = geometry
        self.updated_at = at

    @classmethod
    def draw(
        cls, *, grid: str, geometry: dict[str, Any], actor_id: str, actor_role: str, at: datetime
    ) -> GridBoundary:
        """The grid's first boundary."""
        polygons_of(geometry)
        return cls(
            grid=_name(grid, "grid", GRID_MAX),
            geometry=_plain_geometry(geometry),
            actor_id=actor_id,
            actor_role=actor_role,
            at=at,
        )

    def redraw(
        self, geometry: dict[str, Any], actor_id: str, actor_role: str, at: datetime
    ) -> None:
        """Replace the boundary (kept in the history)."""
        polygons_of(geometry)
        if _plain_geometry(geometry) != self.geometry:
            self._redrawn(_plain_geometry(geometry), actor_id, actor_role, at)

    @event("Redrawn")
    def _redrawn(
        self, geometry: dict[str, Any], actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.geometry = geometry
        self.updated_at = at

    def holds(self, point: Point) -> bool:
        """Whether the point lies inside the grid."""
        return contains(self.geometry, point)


def _plain_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    # Only what a boundary is: GeoJSON's foreign members are not kept.
    return {"type": geometry["type"], "coordinates": geometry["coordinates"]}
