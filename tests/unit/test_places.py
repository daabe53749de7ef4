"""Places, points and grid boundaries on the in-memory store: the register's verbs, GCJ-02
points converted, a point outside its grid refused naming `location`, a place of another
grid refused naming `place`."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.commands import NewConcern
from domain.errors import Forbidden, Invalid
from domain.geo import Point, cell_of, contains, distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from domain.place import PlaceKind
from domain.principal import Principal
from domain.vocabulary import Category, Channel, Library, Role
from tests.unit.verbs_support import ADMIN, COLLECTOR, STAFF, Office, open_office

# Grid 2: a square of about 1.1 km around People's Square, Shanghai (WGS-84).
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [121.465, 31.225],
            [121.477, 31.225],
            [121.477, 31.235],
            [121.465, 31.235],
            [121.465, 31.225],
        ]
    ],
}
INSIDE = Point(31.23, 121.47)
OUTSIDE = Point(31.25, 121.50)


@pytest.fixture
def office() -> Office:
    return open_office()


def draft(**changes: object) -> NewConcern:
    base = NewConcern(
        title="路灯不亮",
        description="5号楼东侧小路路灯坏了",
        category=Category.ENVIRONMENT,
        library=Library.PROBLEM,
        channel=Channel.VISIT,
        grid="2",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_gcj02_is_converted_back_to_the_wgs84_point_within_a_centimetre() -> None:
    shown = wgs84_to_gcj02(INSIDE)
    # The published offset near Shanghai is a few hundred metres.
    assert 300 < distance_m(shown, INSIDE) < 700
    assert distance_m(gcj02_to_wgs84(shown), INSIDE) < 0.01


@given(st.floats(18.0, 53.0), st.floats(74.0, 134.0))
def test_gcj02_round_trips_anywhere_in_china(lat: float, lng: float) -> None:
    p = Point(lat, lng)
    assert distance_m(gcj02_to_wgs84(wgs84_to_gcj02(p)), p) < 0.05


def test_outside_china_gcj02_is_wgs84() -> None:
    paris = Point(48.8566, 2.3522)
    assert wgs84_to_gcj02(paris) == paris


def test_a_point_is_inside_its_polygon_and_not_inside_a_hole() -> None:
    holed = {
        "type": "Polygon",
        "coordinates": [
            SQUARE["coordinates"][0],
            [[121.469, 31.229], [121.471, 31.229], [121.471, 31.231], [121.469, 31.229]],
        ],
    }
    assert contains(SQUARE, INSIDE)
    assert not contains(SQUARE, OUTSIDE)
    assert not contains(holed, Point(31.2295, 121.4705))


@given(st.floats(-60, 60), st.floats(-179, 179), st.sampled_from([100, 250, 500]))
def test_a_cell_holds_its_point_and_its_centre_is_within_the_cell(
    lat: float, lng: float, size: int
) -> None:
    cell = cell_of(Point(lat, lng), size)
    sw, ne = cell.bounds()
    # Within a nanodegree either side: row × step and lat ÷ step round differently.
    assert sw.lat - 1e-9 <= lat < ne.lat + 1e-9
    assert sw.lng - 1e-9 <= lng < ne.lng + 1e-9
    assert distance_m(cell.centre(), Point(lat, lng)) <= size * 1.5
    assert cell_of(cell.centre(), size) == cell


def test_register_change_and_list_places(office: Office) -> None:
    app = office.app
    done = app.register_place(STAFF, "2", "5号楼", PlaceKind.BUILDING, INSIDE)
    app.register_place(STAFF, "3", "中心花园", PlaceKind.COURTYARD)
    place = UUID(done.id)
    app.change_place(place, STAFF, {"name": "5号楼（东）", "office": True})
    changed = app.get_place(place)
    assert (changed.name, changed.office, changed.point) == ("5号楼（东）", True, INSIDE.as_dict())
    assert [p.name for p in app.list_places(frozenset({"2"}))] == ["5号楼（东）"]
    assert len(app.list_places()) == 2


def test_a_principal_of_another_grid_cannot_register_a_place_there(office: Office) -> None:
    other = Principal("g3", "g3", frozenset({Role.STAFF}), frozenset({"3"}))
    with pytest.raises(Forbidden):
        office.app.register_place(other, "2", "5号楼", PlaceKind.BUILDING)
    with pytest.raises(Forbidden):
        office.app.register_place(COLLECTOR, "2", "5号楼", PlaceKind.BUILDING)


def test_only_an_admin_draws_a_boundary_and_a_redraw_keeps_one_boundary(office: Office) -> None:
    app = office.app
    with pytest.raises(Forbidden):
        app.draw_boundary(
            STAFF.__class__("s", "s", frozenset({Role.STAFF}), frozenset()), "2", SQUARE
        )
    first = app.draw_boundary(ADMIN, "2", SQUARE)
    again = app.draw_boundary(ADMIN, "2", SQUARE)
    assert first.id == again.id
    assert again.version == first.version
    boundary = app.boundary_of("2")
    assert boundary is not None
    assert boundary.holds(INSIDE)
    with pytest.raises(Invalid) as refused:
        app.draw_boundary(ADMIN, "2", {"type": "Point", "coordinates": [121.47, 31.23]})
    assert refused.value.fields[0][0] == "geometry"


def test_a_point_outside_the_grid_is_refused_naming_location(office: Office) -> None:
    app = office.app
    app.draw_boundary(ADMIN, "2", SQUARE)
    before = app.recorder.max_notification_id()
    with pytest.raises(Invalid) as refused:
        app.raise_concern(STAFF, draft(location=OUTSIDE))
    assert [f for f, _ in refused.value.fields] == ["location"]
    assert app.recorder.max_notification_id() == before  # nothing recorded
    done = app.raise_concern(STAFF, draft(location=INSIDE))
    assert app.get_concern(UUID(done.id)).location == INSIDE.as_dict()


def test_a_grid_without_a_boundary_takes_any_point(office: Office) -> None:
    done = office.app.raise_concern(STAFF, draft(location=OUTSIDE))
    assert office.app.get_concern(UUID(done.id)).location == OUTSIDE.as_dict()


def test_a_concern_names_a_place_of_its_own_grid_only(office: Office) -> None:
    app = office.app
    here = UUID(app.register_place(STAFF, "2", "5号楼", PlaceKind.BUILDING).id)
    there = UUID(app.register_place(STAFF, "3", "中心花园", PlaceKind.COURTYARD).id)
    for wrong in (there, uuid4()):
        with pytest.raises(Invalid) as refused:
            app.raise_concern(STAFF, draft(place=wrong))
        assert [f for f, _ in refused.value.fields] == ["place"]
    done = app.raise_concern(STAFF, draft(place=here))
    assert app.get_concern(UUID(done.id)).place == here
