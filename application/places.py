"""The places register and the grids' boundaries: register, change and read them; where a
new concern is (its place and point, checked against its grid)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.base import MinqingBase
from application.commands import CommandResult, Idempotency
from domain.errors import Conflict, Invalid, NotFound
from domain.geo import Point
from domain.permissions import check_grid, require_role
from domain.place import GridBoundary, Place, PlaceKind, boundary_id
from domain.principal import Principal
from domain.vocabulary import Role

EDITORS = (Role.ADMIN, Role.STAFF)


class PlaceCommands(MinqingBase):
    """The places register and the grids' boundaries."""

    def register_place(
        self,
        principal: Principal,
        grid: str,
        name: str,
        kind: PlaceKind,
        point: Point | None = None,
        office: bool = False,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Add a place to a grid's register; a point outside the grid is refused."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = require_role(principal, EDITORS, "registering a place")
        check_grid(principal, grid.strip())
        self.check_point(grid.strip(), point, "point")
        place = Place.register(
            grid=grid,
            name=name,
            kind=kind,
            point=point,
            office=office,
            actor_id=principal.id,
            actor_role=role.value,
            at=self.clock(),
        )
        result = CommandResult(id=str(place.id), version=place.version, position=0)
        saved = self._save(place, [], result, idem, [])
        if saved is None:  # a fresh UUID cannot collide: only the idempotency row can
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def change_place(
        self,
        place_id: UUID,
        principal: Principal,
        changes: dict[str, Any],
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Change a place's name, kind, point or office flag."""
        if (replay := self._replay(idem)) is not None:
            return replay

        def attempt() -> CommandResult | None:
            place = self.get_place(place_id)
            role = require_role(principal, EDITORS, "changing a place")
            check_grid(principal, place.grid)
            if isinstance(changes.get("point"), Point):
                self.check_point(place.grid, changes["point"], "point")
            place.change(changes, principal.id, role.value, self.clock())
            result = CommandResult(id=str(place.id), version=place.version, position=0)
            if not place.pending_events:  # nothing differs: nothing to record
                return result
            return self._save(place, [], result, idem, [])

        return self._until_saved(attempt, f"place {place_id} kept changing; try again")

    def get_place(self, place_id: UUID) -> Place:
        """One place of the register."""
        found = self._get(place_id)
        if not isinstance(found, Place):
            raise NotFound("place", place_id)
        return found

    def list_places(self, grids: frozenset[str] | None = None) -> list[Place]:
        """Every place (of these grids, if named), in the order they were registered."""
        return [p for p in self._all_of(Place) if not grids or p.grid in grids]

    def draw_boundary(
        self, principal: Principal, grid: str, geometry: dict[str, Any]
    ) -> CommandResult:
        """Set a grid's boundary (GeoJSON Polygon or MultiPolygon); admins only."""
        require_role(principal, Role.ADMIN, "drawing a grid's boundary")
        grid = grid.strip()

        def attempt() -> CommandResult | None:
            at = self.clock()
            found = self._get(boundary_id(grid))
            if isinstance(found, GridBoundary):
                found.redraw(geometry, principal.id, Role.ADMIN.value, at)
                boundary = found
            else:
                boundary = GridBoundary.draw(
                    grid=grid,
                    geometry=geometry,
                    actor_id=principal.id,
                    actor_role=Role.ADMIN.value,
                    at=at,
                )
            result = CommandResult(id=str(boundary.id), version=boundary.version, position=0)
            if not boundary.pending_events:
                return result
            return self._save(boundary, [], result, None, [])

        return self._until_saved(attempt, f"the boundary of grid {grid} kept changing")

    def boundary_of(self, grid: str) -> GridBoundary | None:
        """The grid's boundary, or None if none was drawn."""
        found = self._get(boundary_id(grid.strip()))
        return found if isinstance(found, GridBoundary) else None

    def check_point(self, grid: str, point: Point | None, field: str = "location") -> None:
        """Refuse (422 naming `field`) a point outside the grid's boundary, if it has one."""
        if point is None:
            return
        boundary = self.boundary_of(grid)
        if boundary is not None and not boundary.holds(point):
            raise Invalid([(field, f"the point {point.lat},{point.lng} is outside grid {grid}")])

    def check_place(self, grid: str, place_id: UUID | None) -> Place | None:
        """The place a new concern names, which must be in the register and in its grid."""
        if place_id is None:
            return None
        found = self._get(place_id)
        if not isinstance(found, Place):
            raise Invalid([("place", f"no place {place_id} in the register")])
        if found.grid != grid:
            raise Invalid([("place", f"place {place_id} is in grid {found.grid}, not {grid}")])
        return found
