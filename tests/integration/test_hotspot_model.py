"""The hotspot read model kept incrementally equals the rule run over every concern.

Random histories (concerns at places, at points, without either; a place turned into the
office's own address, with a point, part-way through), applied to the read model on each
store in random batches: its hotspots are exactly `detect` over all the concerns of each
grid, with the office's concerns left out as the office stands at the end.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.minqing import Minqing
from domain.geo import Point, cell_of, distance_m
from domain.hotspots import Sighting, detect
from projections.hotspots import HOTSPOTS, OFFICE_RADIUS_M, Hotspots

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
CELL_M = 500
PLACES = ("p-0", "p-1", "p-2")
GRIDS = ("g-a", "g-b")
# Two points 20 m apart (one within the office's radius of the other) and one far away.
POINTS = (Point(30.2741, 120.1551), Point(30.27428, 120.1551), Point(30.2801, 120.1601))
OFFICE_POINT = POINTS[0]
_suffixes = itertools.count()


@dataclass
class History:
    """The events, in log order, and what the rule should see at the end."""

    events: list[SimpleNamespace] = field(default_factory=list)
    concerns: list[dict[str, Any]] = field(default_factory=list)
    office: bool = False


concern_st = st.tuples(
    st.sampled_from(GRIDS),
    st.sampled_from(("environment", "dispute")),
    st.one_of(st.none(), st.sampled_from(PLACES)),
    st.one_of(st.none(), st.sampled_from(POINTS)),
    st.integers(0, 45),  # days
    st.integers(0, 23),  # hours
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[History, list[int]]:
    history = History()
    # p-1 is registered (in g-a, not the office); maybe later it becomes the office.
    history.events.append(_place("Place.Registered", "p-1", grid="g-a", point=None, office=False))
    concerns = draw(st.lists(concern_st, min_size=15, max_size=50))
    office_at = draw(st.one_of(st.none(), st.integers(0, len(concerns))))
    for n, (grid, category, place, point, days, hours) in enumerate(concerns):
        if n == office_at:
            history.events.append(_office_change())
            history.office = True
        # A place belongs to one grid: p-1 only in g-a.
        place = place if grid == "g-a" or place != "p-1" else None
        at = T0 + timedelta(days=days, hours=hours)
        concern: dict[str, Any] = {"id": f"c-{n:03d}", "grid": grid, "category": category}
        concern["place"] = place
        concern.update(point=point, at=at)
        history.concerns.append(concern)
        history.events.append(_raised(concern))
    if office_at == len(concerns):
        history.events.append(_office_change())
        history.office = True
    cuts = draw(st.lists(st.integers(1, max(1, len(history.events))), max_size=6))
    return history, sorted(set(cuts))


def _place(kind: str, ident: str, **data: Any) -> SimpleNamespace:
    return SimpleNamespace(
        type_name=kind, originator_id=ident, event=SimpleNamespace(originator_id=ident, **data)
    )


def _office_change() -> SimpleNamespace:
    changes = {"office": True, "point": {"lat": OFFICE_POINT.lat, "lng": OFFICE_POINT.lng}}
    return _place("Place.Changed", "p-1", changes=changes)


def _raised(c: dict[str, Any]) -> SimpleNamespace:
    point = c["point"]
    event = SimpleNamespace(
        originator_id=c["id"],
        grid=c["grid"],
        category=c["category"],
        place=c["place"],
        location={"lat": point.lat, "lng": point.lng} if point else None,
        at=c["at"],
        kind="resident",
    )
    return SimpleNamespace(type_name="Concern.Raised", originator_id=c["id"], event=event)


def expected(history: History) -> set[tuple[Any, ...]]:
    """The rule over every concern of each grid, the office as it stands at the end."""
    found = set()
    for grid in GRIDS:
        sightings = []
        for c in (c for c in history.concerns if c["grid"] == grid):
            point = c["point"]
            at_office = history.office and (
                c["place"] == "p-1"
                or (point is not None and distance_m(point, OFFICE_POINT) <= OFFICE_RADIUS_M)
            )
            # The office is a place of g-a: its point does not reach into g-b's concerns.
            at_office = at_office and grid == "g-a"
            cell = cell_of(point, CELL_M).id if point is not None else None
            sightings.append(Sighting(c["id"], c["category"], c["at"], c["place"], cell, at_office))
        for h in detect(sightings):
            found.add(
                (
                    grid,
                    h.kind,
                    h.where,
                    h.category,
                    tuple(h.concern_ids),
                    len(h.days),
                    h.high_incidence,
                )
            )
    return found


def folded(app: Minqing, history: History, cuts: list[int]) -> set[tuple[Any, ...]]:
    """The read model's hotspots after the history, applied in batches cut at `cuts`."""
    model = Hotspots(suffix=f"__t{next(_suffixes)}", cell_m=CELL_M)
    with app.db.transaction() as cur:
        for table in model.tables:
            for statement in table.ddl(model.suffix):
                cur.execute(statement)
    bounds = [0, *cuts, len(history.events)]
    for start, end in itertools.pairwise(bounds):
        if start < end:
            with app.db.transaction() as cur:
                model.apply_batch(cur, history.events[start:end])  # type: ignore[arg-type]
    rows = app.db.fetchall(
        f"SELECT grid, kind, spot, category, concern_ids, days, high_incidence"  # noqa: S608
        f" FROM {model.table(HOTSPOTS)}"
    )
    return {
        (
            r["grid"],
            r["kind"],
            r["spot"],
            r["category"],
            tuple(json.loads(r["concern_ids"])),
            int(r["days"]),
            bool(r["high_incidence"]),
        )
        for r in rows
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=histories())
def test_the_incremental_read_model_equals_detect_over_every_concern(
    minqing: Minqing, case: tuple[History, list[int]]
) -> None:
    history, cuts = case
    assert folded(minqing, history, cuts) == expected(history)


def test_a_place_turned_office_takes_its_concerns_out_of_a_hotspot(minqing: Minqing) -> None:
    history = History()
    history.events.append(_place("Place.Registered", "p-1", grid="g-a", point=None, office=False))
    for n in range(3):
        c: dict[str, Any] = {"id": f"c-{n}", "grid": "g-a", "category": "environment"}
        c["place"] = "p-1"
        c.update(point=None, at=T0 + timedelta(days=n))
        history.concerns.append(c)
        history.events.append(_raised(c))
    (hotspot,) = folded(minqing, history, [])
    assert hotspot[4] == ("c-0", "c-1", "c-2")
    history.events.append(_office_change())
    history.office = True
    assert folded(minqing, history, [4]) == set() == expected(history)


def test_a_new_category_at_a_place_with_a_hotspot_leaves_that_hotspot(minqing: Minqing) -> None:
    history = History()
    for n, category in enumerate(["environment"] * 3 + ["dispute"] * 2):
        c: dict[str, Any] = {"id": f"c-{n}", "grid": "g-b", "category": category}
        c.update(place="p-0", point=None, at=T0 + timedelta(days=n))
        history.concerns.append(c)
        history.events.append(_raised(c))
    assert folded(minqing, history, [3, 4]) == expected(history)
    assert len(expected(history)) == 1
