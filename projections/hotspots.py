"""Hotspots read from the concern_places read model (domain/hotspots.py holds the rule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from adapters.database import Database
from domain.geo import Point, cell_of, distance_m
from domain.hotspots import Hotspot, Sighting, detect
from projections.concern_places import TABLE

# A concern within this distance of the office's own place counts as filed at the office.
OFFICE_RADIUS_M = 30


@dataclass(frozen=True)
class HotspotQuery:
    """Filters; `scope` the caller's grids (empty: every grid)."""

    grid: str | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    scope: frozenset[str] = frozenset()


def hotspots(
    db: Database,
    query: HotspotQuery,
    *,
    cell_m: int,
    offices: dict[str, Point | None],
) -> list[dict[str, Any]]:
    """The hotspots of the concerns in these grids and category; `offices` the office
    places (id to point) whose concerns are left out."""
    where, params = ["1 = 1"], []
    if query.grid:
        where.append("grid = ?")
        params.append(query.grid)
    if query.scope:
        where.append(f"grid IN ({', '.join('?' * len(query.scope))})")
        params.extend(sorted(query.scope))
    if query.category:
        where.append("category = ?")
        params.append(query.category)
    rows = db.fetchall(
        f"SELECT id, category, place, lat, lng, raised_at FROM {TABLE}"  # noqa: S608
        f" WHERE {' AND '.join(where)}",
        tuple(params),
    )
    points = [p for p in offices.values() if p is not None]
    sightings = []
    for r in rows:
        point = Point(float(r["lat"]), float(r["lng"])) if r["lat"] is not None else None
        at_office = r["place"] in offices or (
            point is not None and any(distance_m(point, o) <= OFFICE_RADIUS_M for o in points)
        )
        sightings.append(
            Sighting(
                str(r["id"]),
                str(r["category"]),
                datetime.fromisoformat(str(r["raised_at"])),
                place=r["place"],
                cell=cell_of(point, cell_m).id if point is not None else None,
                at_office=at_office,
            )
        )
    found = [
        h
        for h in detect(sightings)
        if (query.since is None or h.ends >= query.since)
        and (query.until is None or h.starts <= query.until)
    ]
    return [_item(h) for h in found]


def _item(h: Hotspot) -> dict[str, Any]:
    key = f"minqing:hotspot:{h.kind}:{h.where}:{h.category}:{h.starts.isoformat()}"
    return {
        "id": str(uuid5(NAMESPACE_URL, key)),
        **({"place": h.where} if h.kind == "place" else {"cell": h.where}),
        "category": h.category,
        "count": h.count,
        "days": len(h.days),
        "high_incidence": h.high_incidence,
        "starts": h.starts.isoformat(),
        "ends": h.ends.isoformat(),
        "concern_ids": h.concern_ids,
        # Recording a hotspot with its proactive concern is not built yet.
        "proactive_concern_id": None,
    }
