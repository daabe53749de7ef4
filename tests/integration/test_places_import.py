"""`minqing places import FILE.geojson` on both stores: boundaries and places from one
FeatureCollection, GCJ-02 points converted, and a second import of the same file adding
nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from application.minqing import Minqing
from domain.geo import Point, distance_m, wgs84_to_gcj02
from tests.conftest import BACKENDS

SQUARE = [[121.465, 31.225], [121.477, 31.225], [121.477, 31.235], [121.465, 31.235]]
HOME = Point(31.23, 121.47)
SHOWN = wgs84_to_gcj02(HOME)
COLLECTION: dict[str, Any] = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"grid": "2", "name": "5号楼", "kind": "building", "datum": "gcj02"},
            "geometry": {"type": "Point", "coordinates": [SHOWN.lng, SHOWN.lat]},
        },
        {
            "type": "Feature",
            "properties": {"grid": "2", "name": "居委会", "kind": "facility", "office": True},
            "geometry": {"type": "Point", "coordinates": [121.468, 31.228]},
        },
        {
            "type": "Feature",
            "properties": {"grid": "2"},
            "geometry": {"type": "Polygon", "coordinates": [[*SQUARE, SQUARE[0]]]},
        },
    ],
}

assert BACKENDS  # both stores, through the `minqing` fixture's database_url


def test_the_cli_imports_boundaries_and_places_once(
    minqing: Minqing,
    database_url: str,
    master_key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    file = tmp_path / "places.geojson"
    file.write_text(json.dumps(COLLECTION, ensure_ascii=False), encoding="utf-8")

    assert main(["places", "import", str(file)]) == 0
    assert "boundaries 1, places added 2" in capsys.readouterr().out
    assert main(["places", "import", str(file)]) == 0
    assert "places added 0, changed 0, unchanged 2" in capsys.readouterr().out

    places = {p.name: p for p in minqing.list_places()}
    assert sorted(places) == ["5号楼", "居委会"]
    home = places["5号楼"].location
    assert home is not None
    assert distance_m(home, HOME) < 0.05
    assert places["居委会"].office
    boundary = minqing.boundary_of("2")
    assert boundary is not None
    assert boundary.holds(HOME)


def test_a_feature_without_a_grid_is_refused_naming_it(
    minqing: Minqing,
    database_url: str,
    master_key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    file = tmp_path / "bad.geojson"
    bad = {
        "type": "FeatureCollection",
        "features": [{**COLLECTION["features"][0], "properties": {}}],
    }
    file.write_text(json.dumps(bad), encoding="utf-8")
    assert main(["places", "import", str(file)]) == 1
    assert "features[0].properties.grid" in capsys.readouterr().err
    assert minqing.list_places() == []
