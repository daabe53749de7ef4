"""Request and response bodies of the places register and the grids' boundaries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.schemas import Body, LocationIn, Name, Short
from domain.place import PlaceKind


class PlaceIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "grid": "2",
                    "name": "5号楼",
                    "kind": "building",
                    "point": {"lat": 31.2304, "lng": 121.4737, "datum": "gcj02"},
                }
            ]
        },
    )

    grid: Short
    name: Name
    kind: PlaceKind
    point: LocationIn | None = None
    office: StrictBool = Field(
        False, description="the office's own address: never a hotspot of its own"
    )


class PlacePatch(Body):
    """Only the fields sent change; `"point": null` removes the point."""

    name: Name | None = None
    kind: PlaceKind | None = None
    point: LocationIn | None = None
    office: StrictBool | None = None


class PointOut(BaseModel):
    lat: float
    lng: float


class PlaceOut(BaseModel):
    """One place of the register."""

    id: str
    grid: str
    name: str
    kind: str
    point: PointOut | None
    office: bool
    version: int
    registered_at: str
    updated_at: str


class PlaceList(BaseModel):
    items: list[PlaceOut]


class GeometryIn(BaseModel):
    """A GeoJSON Polygon or MultiPolygon of [lng, lat] positions (WGS-84)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class BoundaryIn(BaseModel):
    """A grid's boundary: a GeoJSON Feature, or its bare Polygon or MultiPolygon."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "type": "Feature",
                    "properties": {"grid": "2"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[121.47, 31.23], [121.48, 31.23], [121.48, 31.24], [121.47, 31.23]]
                        ],
                    },
                }
            ]
        },
    )

    type: Literal["Feature", "Polygon", "MultiPolygon"]
    geometry: GeometryIn | None = None
    coordinates: list[Any] | None = None

    def as_geometry(self) -> dict[str, Any]:
        """The geometry itself, whichever way it came."""
        if self.type == "Feature":
            if self.geometry is None:
                return {}
            return self.geometry.model_dump()
        return {"type": self.type, "coordinates": self.coordinates or []}


class BoundaryOut(BaseModel):
    """A GeoJSON Feature: the grid's boundary."""

    type: Literal["Feature"]
    properties: dict[str, Any]
    geometry: dict[str, Any]
