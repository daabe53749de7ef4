"""Events by type (`minqing_event_counts`): what the log holds, for metrics and checks.

It counts, so it is the read model where a double-applied or skipped event shows at once:
the kill and two-runner tests compare it with a plain count of the log.
"""

from __future__ import annotations

from domain.store import Cursor
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
        """Count one more event of its type; the topic is enough, nothing is decoded."""
        table = self.table(TABLE)
        cur.execute(
            f"INSERT INTO {table} (type, count, last_position) VALUES (?, 1, ?)"  # noqa: S608
            f" ON CONFLICT (type) DO UPDATE SET count = {table}.count + 1,"
            " last_position = excluded.last_position",
            (recorded.type_name, recorded.position),
        )
