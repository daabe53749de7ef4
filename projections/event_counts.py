"""Events by type (`minqing_event_counts`): what the log holds, for metrics and checks.

It counts, so it is the read model where a double-applied or skipped event shows at once:
the kill and two-runner tests compare it with a plain count of the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.database import Cursor, Database
from projections.runner import Projection, Recorded, Table

TABLE = "minqing_event_counts"


class EventCounts(Projection):
    """How many events of each type the log holds, and the position of the last one."""

    name = "event_counts"
    topics = None  # every event
    tables = (
        Table(
            TABLE,
            "type TEXT PRIMARY KEY, count BIGINT NOT NULL, last_position BIGINT NOT NULL",
        ),
    )

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        """One event: a batch of one."""
        self.apply_batch(cur, [recorded])

    def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Add the batch's count of each type; the topic is enough, nothing is decoded."""
        counts: dict[str, int] = {}
        last: dict[str, int] = {}
        for recorded in batch:
            kind = recorded.type_name
            counts[kind] = counts.get(kind, 0) + 1
            last[kind] = recorded.position
        table = self.table(TABLE)
        cur.executemany(
            f"INSERT INTO {table} (type, count, last_position) VALUES (?, ?, ?)"  # noqa: S608
            f" ON CONFLICT (type) DO UPDATE SET count = {table}.count + excluded.count,"
            " last_position = excluded.last_position",
            [(kind, n, last[kind]) for kind, n in counts.items()],
        )


def event_counts(db: Database) -> dict[str, int]:
    """How many events of each type the read model has counted, by type."""
    rows = db.fetchall(f"SELECT type, count FROM {TABLE} ORDER BY type")  # noqa: S608
    return {str(r["type"]): int(r["count"]) for r in rows}
