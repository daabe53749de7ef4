"""`minqing places import FILE.geojson`: grid boundaries and places from one GeoJSON
FeatureCollection.

A Polygon or MultiPolygon feature is a grid's boundary (`properties.grid`); a Point feature
is a place (`properties.grid`, `name`, `kind`, optional `office`; `datum` "gcj02" when the
point came from a Chinese map, WGS-84 otherwise). A place already registered under the same
grid and name is changed, not added twice, so importing the same file again changes nothing.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from application.minqing import Minqing
from domain.errors import Invalid
from domain.geo import point_from
from domain.place import PlaceKind
from domain.principal import Principal
from domain.vocabulary import Role

# Who the events say acted: the operator at the console, as an admin of every grid.
CONSOLE = Principal(
    "console:places-import", "minqing places import", frozenset({Role.ADMIN}), frozenset()
)


@dataclass
class Imported:
    """What one import did."""

    boundaries: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def add_parser(sub: Any) -> None:
    """The `places` command and its `import` subcommand."""
    places = sub.add_parser("places", help="the places register").add_subparsers(
        dest="places_command", required=True
    )
    imp = places.add_parser(
        "import", help="grid boundaries (polygons) and places (points) from a GeoJSON file"
    )
    imp.add_argument("file", type=Path, help="a GeoJSON FeatureCollection")


def run(args: argparse.Namespace, app: Minqing) -> int:
    """Run `minqing places …`; prints what was imported."""
    data = json.loads(args.file.read_text(encoding="utf-8"))
    done = import_geojson(app, data)
    print(
        f"boundaries {done.boundaries}, places added {done.added}, changed {done.changed},"
        f" unchanged {done.unchanged}"
    )
    return 0


def import_geojson(app: Minqing, data: dict[str, Any], principal: Principal = CONSOLE) -> Imported:
    """Import a FeatureCollection; Invalid naming the feature when one is not usable."""
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise Invalid([("file", "must be a GeoJSON FeatureCollection")])
    done = Imported()
    existing = {(p.grid, p.name): p for p in app.list_places()}
    # Boundaries first: the places' points are checked against them.
    features = sorted(
        enumerate(data["features"]),
        key=lambda f: (f[1].get("geometry") or {}).get("type") == "Point",
    )
    for n, feature in features:
        geometry = feature.get("geometry") or {}
        props = feature.get("properties") or {}
        grid = str(props.get("grid") or "").strip()
        if not grid:
            raise Invalid([(f"features[{n}].properties.grid", "is required")])
        if geometry.get("type") in ("Polygon", "MultiPolygon"):
            app.draw_boundary(principal, grid, geometry)
            done.boundaries += 1
            continue
        if geometry.get("type") != "Point":
            raise Invalid([(f"features[{n}].geometry", "must be a Polygon, MultiPolygon or Point")])
        lng, lat = (geometry.get("coordinates") or [None, None])[:2]
        point = point_from(
            {"lat": lat, "lng": lng}, f"features[{n}].geometry", datum=props.get("datum")
        )
        name = str(props.get("name") or "").strip()
        try:
            kind = PlaceKind(props.get("kind") or PlaceKind.BUILDING.value)
        except ValueError:
            kinds = ", ".join(k.value for k in PlaceKind)
            raise Invalid([(f"features[{n}].properties.kind", f"must be one of {kinds}")]) from None
        office = bool(props.get("office", False))
        found = existing.get((grid, name))
        if found is None:
            app.register_place(principal, grid, name, kind, point, office)
            done.added += 1
            continue
        before = found.version
        app.change_place(found.id, principal, {"kind": kind, "point": point, "office": office})
        if app.get_place(found.id).version == before:
            done.unchanged += 1
        else:
            done.changed += 1
    return done
