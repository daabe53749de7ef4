"""The hotspot read model (`minqing_hotspots`), kept as concerns are projected, and its
queries (domain/hotspots.py holds the rule).

Each concern raised becomes a *sighting* (grid, category, place, cell, when); the key it
counts under is its place, or without a place its cell (`MINQING_PUBLIC_CELL_M` metres), in
its grid. A batch re-runs the rule (`detect`) only on the keys its events touched, reading
only those keys' sightings from a window before the earliest new one, and replaces their
hotspots from there: so the table always equals `detect` over every concern of each grid
(tests/integration/test_hotspot_model.py compares them on random histories), at the cost of
the touched keys' last weeks alone. A place becoming (or ceasing to be) the office's own
address refolds every key of its grid whole, as its concerns join or leave.

Recorded hotspots (`Hotspot.Detected`, by the deadline watcher) are kept beside it with
their proactive concern, and the concerns they link.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.database import Cursor, Database
from domain.geo import Point, cell_of, distance_m
from domain.hotspots import WINDOW, Hotspot, Sighting, detect, hotspot_id
from projections.base import Projection, Recorded, Table
from projections.concerns import utc_text
from projections.rows import delete_rows, insert_rows, read_rows, write_rows

SIGHTINGS = "minqing_hotspot_sightings"
PLACES = "minqing_hotspot_places"
HOTSPOTS = "minqing_hotspots"
RECORDED = "minqing_hotspot_records"
LINKS = "minqing_hotspot_links"
# A concern within this distance of the office's own place counts as filed at the office.
OFFICE_RADIUS_M = 30
# The public cell's default size (MINQING_PUBLIC_CELL_M), as application/settings.py has it.
DEFAULT_CELL_M = 500
_CHUNK = 400
Key = tuple[str, str, str, str]  # grid, "place" or "cell", the place or cell, category

_SIGHTING_COLUMNS = ("id", "grid", "category", "place", "lat", "lng", "cell", "raised_at")
_PLACE_COLUMNS = ("id", "grid", "lat", "lng", "office")
_HOTSPOT_COLUMNS = (
    "id",
    "grid",
    "kind",
    "spot",
    "category",
    "starts",
    "ends",
    "count",
    "days",
    "high_incidence",
    "concern_ids",
)


def cell_size() -> int:
    """The cell of hotspots without a place: the public cell (MINQING_PUBLIC_CELL_M)."""
    return int(os.environ.get("MINQING_PUBLIC_CELL_M") or DEFAULT_CELL_M)


class Hotspots(Projection):
    """Sightings, office places and hotspots per key; recorded hotspots and their links."""

    name = "hotspots"
    topics = (
        "domain.concern:Concern.Raised",
        "domain.hotspot:Hotspot.Detected",
        "domain.place:Place.Changed",
        "domain.place:Place.Registered",
    )
    tables = (
        Table(
            SIGHTINGS,
            "id TEXT PRIMARY KEY, grid TEXT NOT NULL, category TEXT NOT NULL, place TEXT,"
            " lat DOUBLE PRECISION, lng DOUBLE PRECISION, cell TEXT, raised_at TEXT NOT NULL",
            {"place": "(place, raised_at)", "cell": "(cell, raised_at)", "grid": "(grid)"},
        ),
        Table(
            PLACES,
            "id TEXT PRIMARY KEY, grid TEXT NOT NULL, lat DOUBLE PRECISION,"
            " lng DOUBLE PRECISION, office INTEGER NOT NULL",
            {"grid": "(grid, office)"},
        ),
        Table(
            HOTSPOTS,
            "id TEXT PRIMARY KEY, grid TEXT NOT NULL, kind TEXT NOT NULL, spot TEXT NOT NULL,"
            " category TEXT NOT NULL, starts TEXT NOT NULL, ends TEXT NOT NULL,"
            " count INTEGER NOT NULL, days INTEGER NOT NULL, high_incidence INTEGER NOT NULL,"
            " concern_ids TEXT NOT NULL",
            {"key": "(grid, kind, spot, category)", "ends": "(ends)"},
        ),
        Table(RECORDED, "id TEXT PRIMARY KEY, proactive_concern_id TEXT NOT NULL"),
        Table(
            LINKS,
            "concern_id TEXT NOT NULL, hotspot_id TEXT NOT NULL,"
            " PRIMARY KEY (concern_id, hotspot_id)",
        ),
    )

    def __init__(self, suffix: str = "", cell_m: int | None = None) -> None:
        super().__init__(suffix)
        self.cell_m = cell_m or cell_size()

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        """One event: a batch of one."""
        self.apply_batch(cur, [recorded])

    def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Record the batch's sightings, places and recorded hotspots; refold the keys (and,
        when an office place changed, the grids) they touched."""
        sightings: list[dict[str, Any]] = []
        # Each touched key, and the earliest of its new concerns ("" for the whole key).
        keys: dict[Key, str] = {}
        places: dict[str, dict[str, Any] | None] = {}
        grids: set[str] = set()
        for recorded in batch:
            kind = recorded.type_name
            if kind == "Concern.Raised":
                row = self.sighting(recorded.event)
                sightings.append(row)
                if (key := _key_of(row)) is not None:
                    keys[key] = min(keys.get(key, row["raised_at"]), row["raised_at"])
            elif kind.startswith("Place."):
                self._place(cur, recorded, places, grids)
            elif kind == "Hotspot.Detected":
                self._recorded(cur, recorded.event)
        insert_rows(cur, self.table(SIGHTINGS), _SIGHTING_COLUMNS, sightings)
        if places:
            write_rows(cur, self.table(PLACES), _PLACE_COLUMNS, [p for p in places.values() if p])
        for grid in grids:
            keys.update(dict.fromkeys(self._keys_of_grid(cur, grid), ""))
        if keys:
            self._refold(cur, keys)

    def sighting(self, e: Any) -> dict[str, Any]:
        """A raised concern as the rule sees it; a proactive concern is kept without a key:
        it is the committee's item, not one more sighting of its place."""
        location = getattr(e, "location", None) or {}
        place = getattr(e, "place", None)
        lat, lng = location.get("lat"), location.get("lng")
        proactive = getattr(e, "kind", "resident") == "proactive"
        cell = (
            cell_of(Point(float(lat), float(lng)), self.cell_m).id
            if lat is not None and lng is not None
            else None
        )
        return {
            "id": str(e.originator_id),
            "grid": e.grid,
            "category": e.category,
            "place": None if proactive else (str(place) if place else None),
            "lat": lat,
            "lng": lng,
            "cell": None if proactive else cell,
            "raised_at": utc_text(e.at),
        }

    def _place(
        self,
        cur: Cursor,
        recorded: Recorded,
        places: dict[str, dict[str, Any] | None],
        grids: set[str],
    ) -> None:
        e, ident = recorded.event, recorded.originator_id
        if ident not in places:
            places.update(read_rows(cur, self.table(PLACES), _PLACE_COLUMNS, [ident]))
        before = places.get(ident)
        if recorded.type_name == "Place.Registered":
            state = {"grid": e.grid, "point": e.point, "office": e.office}
        elif before is not None:
            state = {
                "grid": before["grid"],
                "point": _point_dict(before),
                "office": bool(before["office"]),
                **{k: v for k, v in e.changes.items() if k in ("point", "office")},
            }
        else:
            return
        point = state["point"] or {}
        after = {
            "id": ident,
            "grid": state["grid"],
            "lat": point.get("lat"),
            "lng": point.get("lng"),
            "office": 1 if state["office"] else 0,
        }
        places[ident] = after
        was_office = before is not None and bool(before["office"])
        if (was_office or after["office"]) and after != before:
            grids.add(str(after["grid"]))

    def _recorded(self, cur: Cursor, e: Any) -> None:
        ident = str(e.originator_id)
        write_rows(
            cur,
            self.table(RECORDED),
            ("id", "proactive_concern_id"),
            [{"id": ident, "proactive_concern_id": str(e.proactive_concern_id)}],
        )
        cur.executemany(
            f"INSERT INTO {self.table(LINKS)} (concern_id, hotspot_id) VALUES (?, ?)"  # noqa: S608
            " ON CONFLICT (concern_id, hotspot_id) DO NOTHING",
            [(c, ident) for c in e.concern_ids],
        )

    def _keys_of_grid(self, cur: Cursor, grid: str) -> set[Key]:
        cur.execute(
            f"SELECT DISTINCT category, place, cell FROM {self.table(SIGHTINGS)}"  # noqa: S608
            " WHERE grid = ?",
            (grid,),
        )
        found = {
            _key_of(
                {"grid": grid, "category": r["category"], "place": r["place"], "cell": r["cell"]}
            )
            for r in cur.fetchall()
        }
        return {k for k in found if k is not None}

    def _refold(self, cur: Cursor, keys: dict[Key, str]) -> None:
        # Nothing before a key's earliest new concern T changed, so neither did a hotspot
        # that opened before C = T - WINDOW (it closed before T); the rule restarts at C, or
        # where the last of those closed, whichever is later, with no hotspot open there.
        cut = {k: _minus_window(t) for k, t in keys.items()}
        resume = dict(cut)
        stale = []
        for ident, key, starts, ends in self._hotspots_of(cur, keys):
            if key not in cut:
                continue  # another category (or grid) at the same place or cell
            if starts < cut[key]:
                resume[key] = max(resume[key], ends)
            else:
                stale.append(ident)
        by_key: dict[Key, list[dict[str, Any]]] = defaultdict(list)
        for row in self._sightings_of(cur, keys, min(cut.values())):
            found = _key_of(row)
            if found is not None and found in keys and row["raised_at"] >= resume[found]:
                by_key[found].append(row)
        offices = self._offices(cur, {k[0] for k in keys})
        table = self.table(HOTSPOTS)
        # By id: a rebuild's fresh tables have their primary key, not yet their indexes.
        delete_rows(cur, table, "id", stale)
        rows = []
        for key, seen in by_key.items():
            grid = key[0]
            for h in detect(_sightings(seen, offices.get(grid, {}))):
                rows.append(_hotspot_row(grid, h))
        insert_rows(cur, table, _HOTSPOT_COLUMNS, rows)

    def _hotspots_of(self, cur: Cursor, keys: Iterable[Key]) -> list[tuple[str, Key, str, str]]:
        spots = sorted({k[2] for k in keys})
        found = []
        for start in range(0, len(spots), _CHUNK):
            chunk = spots[start : start + _CHUNK]
            cur.execute(
                f"SELECT id, grid, kind, spot, category, starts, ends"  # noqa: S608
                f" FROM {self.table(HOTSPOTS)}"
                f" WHERE spot IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            )
            for r in cur.fetchall():
                key = (str(r["grid"]), str(r["kind"]), str(r["spot"]), str(r["category"]))
                found.append((str(r["id"]), key, str(r["starts"]), str(r["ends"])))
        return found

    def _sightings_of(self, cur: Cursor, keys: Iterable[Key], since: str) -> list[dict[str, Any]]:
        places = sorted({k[2] for k in keys if k[1] == "place"})
        cells = sorted({k[2] for k in keys if k[1] == "cell"})
        # A concern counts at its place when it has one, else at its cell.
        found: dict[str, dict[str, Any]] = {}
        for column, values, more in (("place", places, ""), ("cell", cells, " AND place IS NULL")):
            more += " AND raised_at >= ?"
            for start in range(0, len(values), _CHUNK):
                chunk = values[start : start + _CHUNK]
                cur.execute(
                    f"SELECT {', '.join(_SIGHTING_COLUMNS)} FROM {self.table(SIGHTINGS)}"  # noqa: S608
                    f" WHERE {column} IN ({', '.join('?' * len(chunk))}){more}",
                    (*chunk, since),
                )
                for r in cur.fetchall():
                    found[str(r["id"])] = {c: r[c] for c in _SIGHTING_COLUMNS}
        return list(found.values())

    def _offices(self, cur: Cursor, grids: set[str]) -> dict[str, dict[str, Point | None]]:
        found: dict[str, dict[str, Point | None]] = defaultdict(dict)
        marks = ", ".join("?" * len(grids))
        cur.execute(
            f"SELECT id, grid, lat, lng FROM {self.table(PLACES)}"  # noqa: S608
            f" WHERE office = 1 AND grid IN ({marks})",
            tuple(sorted(grids)),
        )
        for r in cur.fetchall():
            point = Point(float(r["lat"]), float(r["lng"])) if r["lat"] is not None else None
            found[str(r["grid"])][str(r["id"])] = point
        return found


def _minus_window(moment: str) -> str:
    """WINDOW before a time as the tables store it ("" stays "": from the very start)."""
    return utc_text(datetime.fromisoformat(moment) - WINDOW) if moment else ""


def _point_dict(row: dict[str, Any]) -> dict[str, float] | None:
    return {"lat": row["lat"], "lng": row["lng"]} if row["lat"] is not None else None


def _key_of(row: dict[str, Any]) -> Key | None:
    if row["place"]:
        return (str(row["grid"]), "place", str(row["place"]), str(row["category"]))
    if row["cell"]:
        return (str(row["grid"]), "cell", str(row["cell"]), str(row["category"]))
    return None


def _sightings(rows: Iterable[dict[str, Any]], offices: dict[str, Point | None]) -> list[Sighting]:
    """The rows as the rule's sightings; those at the office's place or within
    OFFICE_RADIUS_M of its point are marked filed at the office."""
    points = [p for p in offices.values() if p is not None]
    found = []
    for r in rows:
        point = Point(float(r["lat"]), float(r["lng"])) if r["lat"] is not None else None
        at_office = r["place"] in offices or (
            point is not None and any(distance_m(point, o) <= OFFICE_RADIUS_M for o in points)
        )
        found.append(
            Sighting(
                str(r["id"]),
                str(r["category"]),
                datetime.fromisoformat(str(r["raised_at"])),
                place=r["place"],
                cell=r["cell"],
                at_office=at_office,
            )
        )
    return found


def _hotspot_row(grid: str, h: Hotspot) -> dict[str, Any]:
    return {
        "id": str(hotspot_id(grid, h.kind, h.where, h.category, h.starts)),
        "grid": grid,
        "kind": h.kind,
        "spot": h.where,
        "category": h.category,
        "starts": utc_text(h.starts),
        "ends": utc_text(h.ends),
        "count": h.count,
        "days": len(h.days),
        "high_incidence": 1 if h.high_incidence else 0,
        "concern_ids": json.dumps(h.concern_ids),
    }


# -- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HotspotQuery:
    """Filters; `scope` the caller's grids (empty: every grid)."""

    grid: str | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    scope: frozenset[str] = frozenset()


_SELECT = (
    f"SELECT h.id, h.grid, h.kind, h.spot, h.category, h.starts, h.ends, h.count, h.days,"  # noqa: S608
    f" h.high_incidence, h.concern_ids, r.proactive_concern_id FROM {HOTSPOTS} h"
    f" LEFT JOIN {RECORDED} r ON r.id = h.id"
)


def hotspots(db: Database, query: HotspotQuery) -> list[dict[str, Any]]:
    """The hotspots in these grids and category whose window meets `since`..`until`, in
    the order their windows opened."""
    where, params = ["1 = 1"], []
    if query.grid:
        where.append("h.grid = ?")
        params.append(query.grid)
    if query.scope:
        where.append(f"h.grid IN ({', '.join('?' * len(query.scope))})")
        params.extend(sorted(query.scope))
    if query.category:
        where.append("h.category = ?")
        params.append(query.category)
    if query.since is not None:
        where.append("h.ends >= ?")
        params.append(utc_text(query.since))
    if query.until is not None:
        where.append("h.starts <= ?")
        params.append(utc_text(query.until))
    rows = db.fetchall(
        f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY h.starts, h.spot, h.category",
        tuple(params),
    )
    return [_item(r) for r in rows]


def unrecorded(db: Database, now: datetime) -> list[dict[str, Any]]:
    """The hotspots whose window is still open at `now` and that were not recorded yet (as
    far as the read model knows: recording decides on the aggregate)."""
    rows = db.fetchall(
        f"{_SELECT} WHERE h.ends > ? AND r.id IS NULL ORDER BY h.starts, h.spot",
        (utc_text(now),),
    )
    return [{**_item(r), "grid": str(r["grid"])} for r in rows]


def hotspots_of_concern(db: Database, concern_id: str) -> list[dict[str, str]]:
    """The recorded hotspots a concern is behind, each with its proactive concern."""
    rows = db.fetchall(
        f"SELECT l.hotspot_id, r.proactive_concern_id FROM {LINKS} l"  # noqa: S608
        f" JOIN {RECORDED} r ON r.id = l.hotspot_id WHERE l.concern_id = ?"
        " ORDER BY l.hotspot_id",
        (concern_id,),
    )
    return [
        {"id": str(r["hotspot_id"]), "proactive_concern_id": str(r["proactive_concern_id"])}
        for r in rows
    ]


def _item(r: Any) -> dict[str, Any]:
    proactive = r["proactive_concern_id"]
    return {
        "id": str(r["id"]),
        **({"place": str(r["spot"])} if r["kind"] == "place" else {"cell": str(r["spot"])}),
        "category": str(r["category"]),
        "count": int(r["count"]),
        "days": int(r["days"]),
        "high_incidence": bool(r["high_incidence"]),
        "starts": datetime.fromisoformat(str(r["starts"])).isoformat(),
        "ends": datetime.fromisoformat(str(r["ends"])).isoformat(),
        "concern_ids": json.loads(str(r["concern_ids"])),
        "proactive_concern_id": str(proactive) if proactive else None,
    }
