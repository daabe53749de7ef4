"""The hotspot map drawn on the server: an equirectangular projection fitted to the grids'
boundaries, SVG path strings for them, and a colour scale by count. Pure functions; the
template (hotspots.html) writes the SVG, so every text in it is escaped there."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from domain.geo import Cell, Point

Ring = Sequence[Sequence[float]]  # GeoJSON positions: [lng, lat]
WIDTH = 640
PAD = 24
# A map of one building's cell would be a point: never fit to less than about 200 m.
MIN_SPAN_DEG = 0.002
MARKER_R = 12.0


@dataclass(frozen=True)
class Box:
    """A bounding box in degrees."""

    west: float
    south: float
    east: float
    north: float

    def grown(self, minimum: float = MIN_SPAN_DEG) -> Box:
        """The box widened around its middle to at least `minimum` degrees each way."""
        w = max(self.east - self.west, minimum) / 2
        h = max(self.north - self.south, minimum) / 2
        mx, my = (self.west + self.east) / 2, (self.south + self.north) / 2
        return Box(mx - w, my - h, mx + w, my + h)


def bounds(points: Iterable[tuple[float, float]]) -> Box | None:
    """The box around (lng, lat) pairs; None when there are none."""
    seen = list(points)
    if not seen:
        return None
    lngs, lats = [p[0] for p in seen], [p[1] for p in seen]
    return Box(min(lngs), min(lats), max(lngs), max(lats))


@dataclass(frozen=True)
class Projection:
    """Equirectangular: longitude scaled by the cosine of the box's middle latitude, so a
    square on the ground is a square on the map near the community."""

    box: Box
    scale: float  # pixels per degree of latitude
    squeeze: float  # cos(middle latitude)
    width: float
    height: float
    pad: float

    def xy(self, lng: float, lat: float) -> tuple[float, float]:
        """The map's pixel position of a point (y grows downwards, north is up)."""
        x = self.pad + (lng - self.box.west) * self.squeeze * self.scale
        y = self.pad + (self.box.north - lat) * self.scale
        return round(x, 1), round(y, 1)


def fit(box: Box, width: float = WIDTH, pad: float = PAD) -> Projection:
    """The projection that fits the box into `width` pixels (the height follows)."""
    b = box.grown()
    squeeze = max(math.cos(math.radians((b.south + b.north) / 2)), 0.01)
    scale = (width - 2 * pad) / ((b.east - b.west) * squeeze)
    height = (b.north - b.south) * scale + 2 * pad
    return Projection(b, scale, squeeze, width, round(height, 1), pad)


def ring_path(ring: Ring, proj: Projection) -> str:
    """One closed ring as SVG path data ("M x y L x y … Z")."""
    parts = []
    for i, pos in enumerate(ring):
        x, y = proj.xy(float(pos[0]), float(pos[1]))
        parts.append(f"{'M' if i == 0 else 'L'}{x:g} {y:g}")
    return " ".join(parts) + " Z"


def polygons_path(polygons: Sequence[Sequence[Ring]], proj: Projection) -> str:
    """Every ring of a (Multi)Polygon in one path (holes drawn with fill-rule evenodd)."""
    return " ".join(ring_path(ring, proj) for polygon in polygons for ring in polygon)


# Sequential colours, light to dark; each step also has words in the legend, and the
# count is written on each marker, so colour is never the only sign.
STEPS: tuple[tuple[int, str], ...] = (
    (3, "#fdd49e"),
    (5, "#fc8d59"),
    (10, "#d7301f"),
    (20, "#7f0000"),
)


def step_of(count: int) -> int:
    """The index of the colour step a count falls in (counts below the first: step 0)."""
    found = 0
    for i, (least, _) in enumerate(STEPS):
        if count >= least:
            found = i
    return found


def colour(count: int) -> str:
    """The fill colour of a hotspot with `count` concerns."""
    return STEPS[step_of(count)][1]


def legend() -> list[tuple[str, int, int | None]]:
    """The legend's steps: colour, least count, most count (None: and more)."""
    out: list[tuple[str, int, int | None]] = []
    for i, (least, fill) in enumerate(STEPS):
        most = STEPS[i + 1][0] - 1 if i + 1 < len(STEPS) else None
        out.append((fill, least, most))
    return out


def ink(fill: str) -> str:
    """Black or white text, whichever reads on `fill` (WCAG relative luminance)."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    return "#000000" if lum > 0.179 else "#ffffff"


def cell_from_id(cell_id: str) -> Cell | None:
    """The cell named "500m:row:col" (domain/geo.py's Cell.id), or None if it is not one."""
    size, _, rest = cell_id.partition("m:")
    row, _, col = rest.partition(":")
    try:
        return Cell(int(size), int(row), int(col))
    except ValueError:
        return None


@dataclass(frozen=True)
class GridShape:
    """A grid outlined on the map, with its name written at its middle."""

    grid: str
    path: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Spot:
    """A hotspot on the map: a cell square (w, h) or a place marker (a circle of radius r)."""

    id: str
    label: str
    count: int
    fill: str
    ink: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    r: float = 0.0


@dataclass(frozen=True)
class MapSpot:
    """What the page knows of a hotspot: a cell, or a place's point, and its count."""

    id: str
    label: str
    count: int
    cell: str | None = None
    point: Point | None = None


@dataclass
class Drawing:
    """Everything the template needs to write the map's SVG."""

    width: float
    height: float
    grids: list[GridShape] = field(default_factory=list)
    spots: list[Spot] = field(default_factory=list)


def _corners(spot: MapSpot) -> list[tuple[float, float]]:
    if spot.cell:
        cell = cell_from_id(spot.cell)
        if cell is not None:
            sw, ne = cell.bounds()
            return [(sw.lng, sw.lat), (ne.lng, ne.lat)]
    if spot.point is not None:
        return [(spot.point.lng, spot.point.lat)]
    return []


def draw(
    boundaries: Mapping[str, Sequence[Sequence[Ring]]], spots: Sequence[MapSpot]
) -> Drawing | None:
    """The map of these grids' boundaries (grid -> polygons) and hotspots; None when there
    is nothing to place."""
    outline = [
        (float(p[0]), float(p[1]))
        for polygons in boundaries.values()
        for polygon in polygons
        for p in polygon[0]
    ]
    # Fitted to the boundaries and the hotspots together: a cell straddling the edge of a
    # grid (or a hotspot outside every boundary drawn) stays on the map.
    box = bounds(outline + [c for s in spots for c in _corners(s)])
    if box is None:
        return None
    proj = fit(box)
    drawing = Drawing(proj.width, proj.height)
    for grid, polygons in sorted(boundaries.items()):
        ring = polygons[0][0]
        lx, ly = proj.xy(
            sum(float(p[0]) for p in ring) / len(ring), sum(float(p[1]) for p in ring) / len(ring)
        )
        drawing.grids.append(GridShape(grid, polygons_path(polygons, proj), lx, ly))
    # Cells first, then place markers on top of them.
    for s in sorted(spots, key=lambda s: s.point is not None and not s.cell):
        fill = colour(s.count)
        corners = _corners(s)
        if not corners:
            continue
        if len(corners) == 2:
            (x0, y0), (x1, y1) = proj.xy(*corners[0]), proj.xy(*corners[1])
            # A cell is drawn at least a marker wide, so its count stays readable.
            w, h = max(x1 - x0, 2 * MARKER_R), max(y0 - y1, 2 * MARKER_R)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            drawing.spots.append(
                Spot(s.id, s.label, s.count, fill, ink(fill), cx, cy, w=round(w, 1), h=round(h, 1))
            )
        else:
            x, y = proj.xy(*corners[0])
            drawing.spots.append(Spot(s.id, s.label, s.count, fill, ink(fill), x, y, r=MARKER_R))
    return drawing
