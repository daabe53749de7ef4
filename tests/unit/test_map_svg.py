"""The hotspot map's drawing (api/ui/map_svg.py): the projection keeps north up and ground
squares square, fits the boundaries into the width, draws closed rings, places a cell where
it lies, and colours by count in steps that the legend names."""

from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from api.ui import map_svg
from domain.geo import Point, cell_of

# A square of about 1 km around a Shanghai community, [lng, lat].
SQUARE = [[121.47, 31.23], [121.48, 31.23], [121.48, 31.24], [121.47, 31.24], [121.47, 31.23]]


def test_the_projection_fits_the_box_with_north_up_and_the_padding_kept() -> None:
    box = map_svg.Box(121.47, 31.23, 121.48, 31.24)
    proj = map_svg.fit(box, width=640, pad=24)
    west_north = proj.xy(121.47, 31.24)
    east_south = proj.xy(121.48, 31.23)
    assert west_north == (24.0, 24.0)
    assert east_south[0] == 616.0  # the width less the padding
    assert east_south[1] > west_north[1]  # south is further down
    assert proj.height == round(east_south[1] + 24, 1)


def test_a_square_on_the_ground_is_square_on_the_map() -> None:
    # 0.01° of longitude at 31.235° N is cos(31.235°) of 0.01° of latitude on the ground.
    box = map_svg.Box(121.47, 31.23, 121.48, 31.24)
    proj = map_svg.fit(box)
    x0, y0 = proj.xy(121.47, 31.23)
    x1, _ = proj.xy(121.48, 31.23)
    _, y1 = proj.xy(121.47, 31.24)
    width_px, height_px = x1 - x0, y0 - y1
    assert math.isclose(width_px / height_px, math.cos(math.radians(31.235)), rel_tol=1e-3)


def test_a_tiny_box_is_grown_so_one_building_is_not_a_whole_map() -> None:
    proj = map_svg.fit(map_svg.Box(121.47, 31.23, 121.47, 31.23))
    assert proj.box.east - proj.box.west >= map_svg.MIN_SPAN_DEG
    assert proj.box.north - proj.box.south >= map_svg.MIN_SPAN_DEG
    x, y = proj.xy(121.47, 31.23)
    assert math.isclose(x, proj.width / 2, abs_tol=0.1)
    assert math.isclose(y, proj.height / 2, abs_tol=0.1)


def test_a_ring_is_a_closed_path_of_moves_and_lines() -> None:
    proj = map_svg.fit(map_svg.Box(121.47, 31.23, 121.48, 31.24))
    path = map_svg.ring_path(SQUARE, proj)
    assert path.startswith("M24 ")
    assert path.endswith(" Z")
    assert path.count("L") == len(SQUARE) - 1
    assert re.fullmatch(r"M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+ Z", path)
    hole = [[121.474, 31.234], [121.476, 31.234], [121.476, 31.236], [121.474, 31.234]]
    both = map_svg.polygons_path([[SQUARE, hole]], proj)
    assert both.count("M") == 2
    assert both.count("Z") == 2


def test_colours_step_up_with_the_count_and_the_legend_names_each_step() -> None:
    assert map_svg.colour(3) == map_svg.colour(4) != map_svg.colour(5)
    assert map_svg.colour(9) != map_svg.colour(10) != map_svg.colour(20)
    assert map_svg.colour(250) == map_svg.colour(20)
    assert map_svg.legend() == [
        ("#fdd49e", 3, 4),
        ("#fc8d59", 5, 9),
        ("#d7301f", 10, 19),
        ("#7f0000", 20, None),
    ]
    # The number on a marker reads on its colour: dark ink on light, white on dark.
    assert map_svg.ink("#fdd49e") == "#000000"
    assert map_svg.ink("#7f0000") == "#ffffff"


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_more_concerns_never_mean_a_lighter_step(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert map_svg.step_of(low) <= map_svg.step_of(high)


def test_a_cell_is_read_back_from_its_id_and_drawn_where_it_lies() -> None:
    cell = cell_of(Point(31.235, 121.475), 500)
    assert map_svg.cell_from_id(cell.id) == cell
    assert map_svg.cell_from_id("not a cell") is None
    drawing = map_svg.draw(
        {"2": [[SQUARE]]},
        [map_svg.MapSpot("h1", "cell", 12, cell=cell.id)],
    )
    assert drawing is not None
    [grid] = drawing.grids
    assert grid.grid == "2"
    assert grid.path.endswith("Z")
    [spot] = drawing.spots
    assert spot.w > 0
    assert spot.h > 0
    assert spot.r == 0
    assert spot.fill == map_svg.colour(12)
    # The cell's middle is inside the square's drawing, near where its centre projects.
    proj = map_svg.fit(map_svg.Box(121.47, 31.23, 121.48, 31.24))
    cx, cy = proj.xy(cell.centre().lng, cell.centre().lat)
    assert abs(spot.x - cx) < 1.5
    assert abs(spot.y - cy) < 1.5


def test_a_place_is_a_marker_and_nothing_to_place_is_no_map() -> None:
    drawing = map_svg.draw({}, [map_svg.MapSpot("h2", "3号楼", 4, point=Point(31.235, 121.475))])
    assert drawing is not None
    [spot] = drawing.spots
    assert spot.r == map_svg.MARKER_R
    assert map_svg.draw({}, [map_svg.MapSpot("h3", "somewhere", 4)]) is None


def test_a_hotspot_beyond_the_boundaries_is_still_on_the_map() -> None:
    far = cell_of(Point(31.26, 121.50), 500)  # north-east of the square
    drawing = map_svg.draw({"2": [[SQUARE]]}, [map_svg.MapSpot("h4", "far", 3, cell=far.id)])
    assert drawing is not None
    [spot] = drawing.spots
    assert spot.x - spot.w / 2 >= 0
    assert spot.x + spot.w / 2 <= drawing.width
    assert spot.y - spot.h / 2 >= 0
    assert spot.y + spot.h / 2 <= drawing.height
