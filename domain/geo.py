"""Points on the map: WGS-84 points, GCJ-02 conversion, distances, grid boundaries and the
coarse cells public outputs show instead of an exact point."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import Invalid

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = 111_320.0
# Chinese phone maps (AMap, Tencent) give GCJ-02: WGS-84 shifted by up to ~700 m inside
# mainland China, nowhere else. The ellipsoid and constants of the published formula.
_GCJ_A = 6_378_245.0
_GCJ_EE = 0.006_693_421_622_965_943
DATUMS = ("wgs84", "gcj02")
# Seven decimals is about 1 cm: more is noise from the phone, not a better point.
_DIGITS = 7


@dataclass(frozen=True)
class Point:
    """A WGS-84 point, in degrees."""

    lat: float
    lng: float

    def as_dict(self) -> dict[str, float]:
        """As stored and shown: {"lat", "lng"}."""
        return {"lat": self.lat, "lng": self.lng}


def point_from(
    raw: Mapping[str, Any] | None, field: str = "location", *, datum: str | None = None
) -> Point | None:
    """A point from {"lat", "lng", "datum"} (datum wgs84 by default), converted to WGS-84;
    Invalid naming `field` when it is not a point on the earth."""
    if raw is None:
        return None
    lat, lng = raw.get("lat"), raw.get("lng")
    chosen = datum or raw.get("datum") or "wgs84"
    if chosen not in DATUMS:
        raise Invalid([(field, "datum must be one of wgs84, gcj02")])
    good = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lng))
    if not good or not math.isfinite(float(lat)) or not math.isfinite(float(lng)):  # type: ignore[arg-type]
        raise Invalid([(field, "lat and lng must be numbers")])
    lat_f, lng_f = float(lat), float(lng)  # type: ignore[arg-type]
    if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):
        raise Invalid([(field, "lat must be within -90..90 and lng within -180..180")])
    point = Point(lat_f, lng_f)
    if chosen == "gcj02":
        point = gcj02_to_wgs84(point)
    return Point(round(point.lat, _DIGITS), round(point.lng, _DIGITS))


def _outside_china(p: Point) -> bool:
    return not (72.004 <= p.lng <= 137.8347 and 0.8293 <= p.lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return ret


def wgs84_to_gcj02(p: Point) -> Point:
    """The GCJ-02 point a Chinese map shows for a WGS-84 point (unchanged outside China)."""
    if _outside_china(p):
        return p
    d_lat = _transform_lat(p.lng - 105.0, p.lat - 35.0)
    d_lng = _transform_lng(p.lng - 105.0, p.lat - 35.0)
    rad = p.lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad) * math.pi)
    return Point(p.lat + d_lat, p.lng + d_lng)


def gcj02_to_wgs84(p: Point) -> Point:
    """The WGS-84 point of a GCJ-02 one: the forward formula inverted by iteration (to well
    under a centimetre; the one-step inverse is off by metres)."""
    if _outside_china(p):
        return p
    guess = p
    for _ in range(20):
        shifted = wgs84_to_gcj02(guess)
        d_lat, d_lng = shifted.lat - p.lat, shifted.lng - p.lng
        guess = Point(guess.lat - d_lat, guess.lng - d_lng)
        if abs(d_lat) < 1e-9 and abs(d_lng) < 1e-9:
            break
    return guess


def distance_m(a: Point, b: Point) -> float:
    """The great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    d_phi, d_lambda = phi2 - phi1, math.radians(b.lng - a.lng)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Cell:
    """A square-ish cell of `size_m` metres: what public outputs show instead of a point."""

    size_m: int
    row: int
    col: int

    @property
    def id(self) -> str:
        """A stable name: size, row and column."""
        return f"{self.size_m}m:{self.row}:{self.col}"

    def _lat_step(self) -> float:
        return self.size_m / METRES_PER_DEGREE_LAT

    def _lng_step(self) -> float:
        # The column width is fixed by the row's middle latitude, so a row is one strip.
        middle = (self.row + 0.5) * self._lat_step()
        return self.size_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(middle)), 0.01))

    def centre(self) -> Point:
        """The cell's centre, rounded: the only point a public output carries."""
        lat = (self.row + 0.5) * self._lat_step()
        lng = (self.col + 0.5) * self._lng_step()
        return Point(round(lat, 5), round(lng, 5))

    def bounds(self) -> tuple[Point, Point]:
        """South-west and north-east corners."""
        lat0, lng0 = self.row * self._lat_step(), self.col * self._lng_step()
        return Point(lat0, lng0), Point(lat0 + self._lat_step(), lng0 + self._lng_step())

    def public(self) -> dict[str, Any]:
        """As public outputs show it: the centre and the size, never the point inside."""
        return {"id": self.id, **self.centre().as_dict(), "size_m": self.size_m}


def cell_of(p: Point, size_m: int) -> Cell:
    """The cell of `size_m` metres that holds the point."""
    if size_m <= 0:
        raise ValueError("a cell's size must be positive")
    row = math.floor(p.lat / (size_m / METRES_PER_DEGREE_LAT))
    probe = Cell(size_m, row, 0)
    return Cell(size_m, row, math.floor(p.lng / probe._lng_step()))


# -- grid boundaries: GeoJSON Polygon / MultiPolygon, [lng, lat] positions -----------------

Ring = Sequence[Sequence[float]]


def polygons_of(geometry: Mapping[str, Any], field: str = "geometry") -> list[list[Ring]]:
    """The polygons (outer ring first, then holes) of a GeoJSON Polygon or MultiPolygon;
    Invalid naming `field` when it is neither."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords if isinstance(coords, list) else None  # type: ignore[assignment]
    else:
        raise Invalid([(field, "must be a GeoJSON Polygon or MultiPolygon")])
    if not isinstance(polygons, list) or not polygons:
        raise Invalid([(field, "has no coordinates")])
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise Invalid([(field, "each polygon needs at least its outer ring")])
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise Invalid([(field, "each ring needs at least four positions")])
            for pos in ring:
                if (
                    not isinstance(pos, list)
                    or len(pos) < 2
                    or not all(isinstance(v, int | float) for v in pos[:2])
                    or not (-180 <= pos[0] <= 180 and -90 <= pos[1] <= 90)
                ):
                    raise Invalid([(field, "positions must be [lng, lat] in degrees")])
    return polygons


def _in_ring(p: Point, ring: Ring) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        if (y1 > p.lat) != (y2 > p.lat):
            x = x1 + (p.lat - y1) * (x2 - x1) / (y2 - y1)
            if p.lng < x:
                inside = not inside
    return inside


def contains(geometry: Mapping[str, Any], p: Point) -> bool:
    """Whether the Polygon or MultiPolygon holds the point (inside an outer ring, outside
    its holes)."""
    for polygon in polygons_of(geometry):
        if _in_ring(p, polygon[0]) and not any(_in_ring(p, hole) for hole in polygon[1:]):
            return True
    return False
