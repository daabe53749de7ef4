"""Reading `minqing_request_events`: which HTTP request (X-Request-ID) recorded which event.

The rows are written with the events (adapters/side_tables.py); this tells a supervisor what
a request from the logs recorded, and a history which request recorded each event.
"""

from __future__ import annotations

from adapters.database import Database

TABLE = "minqing_request_events"
# A request records a handful of events; a caller re-using one id gets at most this many.
MAX_ROWS = 500


def events_of(db: Database, request_id: str) -> list[tuple[str, int]]:
    """(aggregate id, version) of every event the request recorded, in a stable order."""
    rows = db.fetchall(
        f"SELECT aggregate_id, version FROM {TABLE} WHERE request_id = ?"  # noqa: S608
        f" ORDER BY aggregate_id, version LIMIT {MAX_ROWS}",
        (request_id,),
    )
    return [(str(r["aggregate_id"]), int(r["version"])) for r in rows]


def requests_of(db: Database, aggregate_id: str) -> dict[int, str]:
    """Version -> request id of an aggregate's events that came in an HTTP request."""
    rows = db.fetchall(
        f"SELECT version, request_id FROM {TABLE} WHERE aggregate_id = ?",  # noqa: S608
        (aggregate_id,),
    )
    return {int(r["version"]): str(r["request_id"]) for r in rows}
