"""Where concerns are, and their words (`minqing_concern_places`): the read model behind
similar-concern suggestions at intake (`similar`).

One row per concern: grid, category, place, point, status, when raised, and its title's and
whole text's words (segmented once, here, so a suggestion only compares). Nothing personal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.database import Database
from domain.geo import METRES_PER_DEGREE_LAT, Point, distance_m
from domain.lifecycle import TERMINAL, Status
from projections.concerns import CONCERN_TOPICS, utc_text
from projections.rows import Row, RowPerAggregate
from projections.runner import Recorded, Table
from projections.text_match import score, title_and_all_words

TABLE = "minqing_concern_places"
# Suggestions: at most this many, at least this alike, within this distance and this age.
MAX_SUGGESTIONS = 5
MIN_SCORE = 0.5
DEFAULT_RADIUS_M = 250
RECENT_DAYS = 90
# Not open: closed for good, or resolved and waiting for the resident's answer.
CLOSED = tuple(sorted({*(s.value for s in TERMINAL), Status.RESOLVED.value}))


class ConcernPlaces(RowPerAggregate):
    """One row per concern: where it is, what it is about, whether it is open."""

    name = "concern_places"
    topics = CONCERN_TOPICS
    tables = (
        Table(
            TABLE,
            "id TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL,"
            " grid TEXT NOT NULL, category TEXT NOT NULL, place TEXT,"
            " lat DOUBLE PRECISION, lng DOUBLE PRECISION, status TEXT NOT NULL,"
            " raised_at TEXT NOT NULL, title_words TEXT NOT NULL, words TEXT NOT NULL,"
            " position BIGINT NOT NULL",
            {
                "grid": "(grid, category, raised_at)",
                "place": "(place, category)",
                "lat": "(category, lat)",
            },
        ),
    )
    row_table = TABLE
    creations = frozenset({"Concern.Raised"})
    columns = (
        "id",
        "reference",
        "title",
        "grid",
        "category",
        "place",
        "lat",
        "lng",
        "status",
        "raised_at",
        "title_words",
        "words",
        "position",
    )

    def warm(self) -> None:
        """Load the word segmenter's dictionary (about a second): else the first concern
        raised after the runner starts would wait for it to appear in every read model."""
        title_and_all_words("", "")

    def fold(self, row: Row | None, recorded: Recorded) -> Row | None:
        """A row on Raised; a move of the lifecycle changes its status."""
        e = recorded.event
        if type(e).__name__ == "Raised":
            title_words, all_words = title_and_all_words(e.title, e.description)
            location = getattr(e, "location", None) or {}
            place = getattr(e, "place", None)
            return {
                "id": str(e.originator_id),
                "reference": e.reference,
                "title": e.title,
                "grid": e.grid,
                "category": e.category,
                "place": str(place) if place else None,
                "lat": location.get("lat"),
                "lng": location.get("lng"),
                "status": Status.INTAKE.value,
                "raised_at": utc_text(e.at),
                "title_words": title_words,
                "words": all_words,
                "position": recorded.position,
            }
        if row is None or not hasattr(e, "status"):
            return row
        row.update(status=e.status, position=recorded.position)
        return row


@dataclass(frozen=True)
class SimilarQuery:
    """A concern being recorded, as far as it is written; `scope` the caller's grids."""

    title: str
    description: str = ""
    category: str | None = None
    grid: str | None = None
    place: str | None = None
    point: Point | None = None
    radius_m: float = DEFAULT_RADIUS_M
    scope: frozenset[str] = frozenset()


def similar(db: Database, query: SimilarQuery, now: datetime) -> list[dict[str, Any]]:
    """At most five open, recent concerns of the same category at the same place or within
    the radius (in the same grid when neither is known), most alike first."""
    where = [f"status NOT IN ({', '.join('?' * len(CLOSED))})", "raised_at >= ?"]
    params: list[Any] = [*CLOSED, utc_text(now - timedelta(days=RECENT_DAYS))]
    if query.category:
        where.append("category = ?")
        params.append(query.category)
    if query.grid:
        where.append("grid = ?")
        params.append(query.grid)
    if query.scope:
        where.append(f"grid IN ({', '.join('?' * len(query.scope))})")
        params.extend(sorted(query.scope))
    near: list[str] = []
    if query.place:
        near.append("place = ?")
        params.append(query.place)
    if query.point is not None:
        d_lat = query.radius_m / METRES_PER_DEGREE_LAT
        d_lng = d_lat / max(math.cos(math.radians(query.point.lat)), 0.01)
        near.append("(lat BETWEEN ? AND ? AND lng BETWEEN ? AND ?)")
        params += [query.point.lat - d_lat, query.point.lat + d_lat]
        params += [query.point.lng - d_lng, query.point.lng + d_lng]
    if near:
        where.append(f"({' OR '.join(near)})")
    elif not query.grid and not query.scope:
        return []  # neither where nor which grid: nothing to compare with
    rows = db.fetchall(
        "SELECT id, reference, title, status, place, lat, lng, title_words, words"  # noqa: S608
        f" FROM {TABLE} WHERE {' AND '.join(where)}",
        tuple(params),
    )
    mine_title, mine_all = title_and_all_words(query.title, query.description)
    found = []
    for r in rows:
        distance = None
        if query.point is not None and r["lat"] is not None:
            distance = distance_m(query.point, Point(float(r["lat"]), float(r["lng"])))
            same_place = query.place is not None and r["place"] == query.place
            if distance > query.radius_m and not same_place:
                continue
        alike = score(mine_title, mine_all, str(r["title_words"]), str(r["words"]))
        if alike < MIN_SCORE:
            continue
        item: dict[str, Any] = {
            "id": str(r["id"]),
            "reference": str(r["reference"]),
            "title": str(r["title"]),
            "status": str(r["status"]),
            "score": alike,
        }
        if distance is not None:
            item["distance_m"] = round(distance)
        found.append(item)
    found.sort(key=lambda i: (-i["score"], i.get("distance_m", 0), i["reference"]))
    return found[:MAX_SUGGESTIONS]
