"""The hotspot rule: three concerns of one category at one place within 30 days make one
hotspot, once per window, with the right concerns; high incidence at ten on five days;
concerns without a location or at the office's address make none."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.hotspots import Sighting, detect

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=ZONE)


def seen(n: int, day: int, **more: object) -> Sighting:
    fields: dict[str, object] = {"category": "environment", "place": "5号楼", **more}
    return Sighting(f"c{n}", at=T0 + timedelta(days=day), **fields)  # type: ignore[arg-type]


def test_three_in_thirty_days_at_a_place_make_one_hotspot_with_those_concerns() -> None:
    (hotspot,) = detect([seen(1, 0), seen(2, 10), seen(3, 29), seen(4, 40, place="7号楼")])
    assert (hotspot.kind, hotspot.where, hotspot.category) == ("place", "5号楼", "environment")
    assert hotspot.concern_ids == ["c1", "c2", "c3"]
    assert not hotspot.high_incidence


def test_two_or_spread_over_more_than_thirty_days_make_none() -> None:
    assert detect([seen(1, 0), seen(2, 10)]) == []
    assert detect([seen(1, 0), seen(2, 20), seen(3, 31)]) == []
    assert detect([seen(1, 0), seen(2, 1), seen(3, 2, category="dispute")]) == []


def test_a_hotspot_is_raised_once_per_window_and_again_after_it() -> None:
    first_window = [seen(n, n) for n in range(6)]
    later = [seen(10 + n, 45 + n) for n in range(3)]
    hotspots = detect(first_window + later)
    assert [h.concern_ids for h in hotspots] == [
        [f"c{n}" for n in range(6)],
        ["c10", "c11", "c12"],
    ]


def test_high_incidence_is_ten_on_five_distinct_days() -> None:
    ten_on_five = [seen(n, n % 5) for n in range(10)]
    ten_on_four = [seen(n, n % 4, place="7号楼") for n in range(10)]
    by_place = {h.where: h for h in detect(ten_on_five + ten_on_four)}
    assert by_place["5号楼"].high_incidence
    assert not by_place["7号楼"].high_incidence


def test_no_location_and_the_office_address_make_no_false_hotspot() -> None:
    nowhere = [seen(n, 0, place=None) for n in range(5)]
    office = [seen(10 + n, 0, at_office=True) for n in range(5)]
    assert detect(nowhere + office) == []


def test_a_cell_stands_for_a_place_when_there_is_none() -> None:
    (hotspot,) = detect([seen(n, n, place=None, cell="500m:1:2") for n in range(3)])
    assert (hotspot.kind, hotspot.where) == ("cell", "500m:1:2")


@given(st.lists(st.integers(0, 200), max_size=40), st.randoms())
def test_the_same_concerns_in_any_order_give_the_same_hotspots(
    days: list[int], rnd: object
) -> None:
    sightings = [seen(n, d) for n, d in enumerate(days)]
    shuffled = list(sightings)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    key = [(h.where, h.starts, h.concern_ids) for h in detect(sightings)]
    assert [(h.where, h.starts, h.concern_ids) for h in detect(shuffled)] == key
    # Every concern counts in one hotspot at most.
    ids = [c for h in detect(sightings) for c in h.concern_ids]
    assert len(ids) == len(set(ids))
