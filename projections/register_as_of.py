"""The register of concerns as it stood at an earlier moment, read from the log.

Today's tables cannot answer "as of": they hold only the latest state. So the concern-list
projection itself is folded again, in a private in-memory SQLite database, over every
concern event recorded at or before the moment; the ordinary list query then runs on it, so
the answer has the live list's item shape, filters, order and cursors.

"Recorded at" is the event's recording time (its `timestamp`), the same clock as
`GET /api/v1/concerns/{id}?as_of=`: the register shows what the system knew then.

Cost: one pass over the log's concern events up to the moment (decoded, applied in memory)
per request, a few seconds per 100,000 events; memory for one row per concern. It is an
audit query for supervisors, not a working list.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from adapters.database import Cursor, Database
from adapters.sqlite import ScratchDatabase
from application.minqing import Minqing
from projections.concerns import CONCERN_TOPICS, ConcernList
from projections.runner import Recorded

BATCH = 500
# Positions follow commit order, timestamps are taken before the commit: an event may be
# committed after one recorded later than it, but never this much later (a command's
# retries end within seconds). Past the moment by this much, nothing earlier can follow.
LONGEST_COMMIT_DELAY = timedelta(minutes=10)


@dataclass(frozen=True)
class PastRegister:
    """The concern list as it stood at `moment`, and the last log position folded into it."""

    db: Database
    moment: datetime
    position: int


@contextmanager
def register_as_of(app: Minqing, moment: datetime) -> Iterator[PastRegister]:
    """The concern list folded from every concern event recorded at or before `moment`
    (an aware time); the in-memory tables are dropped when the block ends."""
    scratch = ScratchDatabase()
    projection = ConcernList()
    try:
        with scratch.transaction() as cur:
            for table in projection.tables:
                for statement in table.ddl():
                    cur.execute(statement)
            position = _fold(app, moment, projection, cur)
        yield PastRegister(scratch, moment, position)
    finally:
        scratch.close()


def _fold(app: Minqing, moment: datetime, projection: ConcernList, cur: Cursor) -> int:
    # A concern's versions are recorded in time order: after its first event past the
    # moment, none of its later ones count (as `Minqing.version_at` reads it).
    stopped: set[UUID] = set()
    position = 0
    after = 0
    horizon = moment + LONGEST_COMMIT_DELAY
    while batch := app.recorder.select_notifications(
        after, BATCH, topics=list(CONCERN_TOPICS), inclusive_of_start=False
    ):
        for notification in batch:
            recorded = Recorded(notification, app)
            event = recorded.event
            if event.timestamp > horizon:
                return position
            if event.originator_id in stopped:
                continue
            if event.timestamp > moment:
                stopped.add(event.originator_id)
                continue
            projection.apply(cur, recorded)
            position = recorded.position
        after = batch[-1].id
    return position
