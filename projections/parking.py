"""Parked events: a read model that keeps failing on one event passes over it and goes on.

A read model's `apply` may fail on an event for good (a bug, a row it cannot write, an
event whose stored bytes no longer decode). Retrying it forever would stop that read model
at that event and, in a shared round, the others too. So the runner retries such an event
with backoff, then *parks* it, as Marten's dead-letter events and KurrentDB's parked
messages do: a row `(projection, position, topic, error, attempts, parked_at)` written in the
same transaction as the position moving past the event. The other events (the failing
one's neighbours in its batch too) are applied as usual.

What is never parked: an error of the database's availability (a connection lost or killed,
the server restarting, a lock or statement timeout, SQLite busy). `transient`
(adapters/availability.py) tells them apart; the runner retries those indefinitely with
backoff, since the same event will apply once the database is back.

To find the culprit in a failed batch, the events are applied one at a time, each under a
savepoint, so only the failing event is rolled back (projections/batches.py). A parked
event is applied again only by a rebuild of its read model (`ProjectionRunner.retry`,
`minqing projections retry NAME`): applying an old event on top of rows that later events
have already changed would give a row fold a wrong answer; a rebuild folds every event in
log order with the fixed code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Read models ask it here, as they always have.
from adapters.availability import transient as transient
from adapters.database import Cursor, Database
from projections.base import RebuildReport, Recorded

log = logging.getLogger("minqing.projections")

PARKED_TABLE = "minqing_projection_parked"
PARKED_DDL = (
    f"CREATE TABLE IF NOT EXISTS {PARKED_TABLE} ("
    " projection TEXT NOT NULL, position BIGINT NOT NULL, topic TEXT NOT NULL,"
    " error TEXT NOT NULL, attempts INTEGER NOT NULL, parked_at TEXT NOT NULL,"
    " PRIMARY KEY (projection, position))"
)
# An event that fails this many times in a row (not for the database's sake) is parked.
PARK_AFTER = 3
# The wait before the second attempt; it doubles for each later one, up to the maximum.
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
# How much of an error's text is kept.
_ERROR_CHARS = 2000


@dataclass(frozen=True)
class ParkedEvent:
    """One event a read model passed over, and why."""

    projection: str
    position: int
    topic: str
    error: str
    attempts: int
    parked_at: str

    @property
    def event_type(self) -> str:
        """The event class's qualified name, e.g. `Concern.Raised`."""
        return self.topic.rpartition(":")[2]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the CLI and the API."""
        return {
            "projection": self.projection,
            "position": self.position,
            "type": self.event_type,
            "error": self.error,
            "attempts": self.attempts,
            "parked_at": self.parked_at,
        }


@dataclass(frozen=True)
class RetryReport:
    """What `minqing projections retry NAME` did: the rebuild, and the events it settled."""

    rebuild: RebuildReport
    unparked: list[int]
    still_parked: list[ParkedEvent]


def error_text(exc: BaseException) -> str:
    """The error as one line of text a TEXT column takes (PostgreSQL refuses NUL)."""
    text = f"{type(exc).__name__}: {exc}".replace("\x00", "\\x00")
    return text[:_ERROR_CHARS]


def now_text() -> str:
    """The current time, UTC, as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# Given an event that failed and its error: True when it was parked (go on with the next
# event), False to stop before it (it will be tried again later).
Failed = Callable[[Recorded, Exception], bool]


# -- the live runner's attempts ----------------------------------------------------------------


@dataclass
class Failure:
    """The event a read model last failed on, how often, and when to try it again."""

    position: int
    attempts: int
    error: str
    retry_at: float


class Failures:
    """Each read model's failing event, counted in memory (a restarted runner counts again)."""

    def __init__(self, park_after: int = PARK_AFTER, retry_seconds: float = RETRY_SECONDS) -> None:
        self.park_after = max(1, park_after)
        self.retry_seconds = retry_seconds
        self._failing: dict[str, Failure] = {}

    def record(self, name: str, position: int, error: str) -> int:
        """Count one more failure of read model `name` on the event at `position`; how many
        times in a row it has failed there."""
        known = self._failing.get(name)
        attempts = known.attempts + 1 if known and known.position == position else 1
        delay = min(self.retry_seconds * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
        self._failing[name] = Failure(position, attempts, error, time.monotonic() + delay)
        return attempts

    def handler(self, cur: Cursor, name: str) -> Failed:
        """What read model `name` does with an event that failed in the transaction of
        `cur`: count the failure; park the event once it has failed `park_after` times in a
        row (True: go on), else stop before it until its retry is due (False)."""

        def failed(recorded: Recorded, exc: Exception) -> bool:
            error = error_text(exc)
            attempts = self.record(name, recorded.position, error)
            if attempts < self.park_after:
                log.warning(
                    "projection %s: the event at position %d failed (attempt %d of %d): %s",
                    name,
                    recorded.position,
                    attempts,
                    self.park_after,
                    error,
                )
                return False
            park(cur, name, recorded, error, attempts)
            log.error(
                "projection %s: parked the event at position %d after %d attempts: %s",
                name,
                recorded.position,
                attempts,
                error,
            )
            return True

        return failed

    def suspect(self, name: str, after: int, upto: int) -> bool:
        """True when read model `name` failed on an event in (after, upto]."""
        known = self._failing.get(name)
        return known is not None and after < known.position <= upto

    def waiting(self, name: str) -> bool:
        """True while read model `name` waits to try its failing event again."""
        known = self._failing.get(name)
        return known is not None and time.monotonic() < known.retry_at

    def forget(self, name: str, upto: int) -> None:
        """Forget the failure of read model `name` once its position has reached `upto`
        past it: the event applied, was parked, or another runner dealt with it."""
        known = self._failing.get(name)
        if known is not None and known.position <= upto:
            del self._failing[name]

    def next_retry_in(self) -> float | None:
        """Seconds until the earliest retry is due (None when nothing failed)."""
        if not self._failing:
            return None
        soonest = min(f.retry_at for f in self._failing.values())
        return max(0.0, soonest - time.monotonic())


# -- the parked rows -----------------------------------------------------------------------


def park(cur: Cursor, projection: str, recorded: Recorded, error: str, attempts: int) -> None:
    """Record that `projection` passed over the event at `recorded`'s position; the caller
    moves the position past it in the same transaction."""
    cur.execute(
        f"INSERT INTO {PARKED_TABLE}"  # noqa: S608
        " (projection, position, topic, error, attempts, parked_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (projection, position) DO UPDATE SET topic = excluded.topic,"
        " error = excluded.error, attempts = excluded.attempts, parked_at = excluded.parked_at",
        (projection, recorded.position, recorded.notification.topic, error, attempts, now_text()),
    )


def replace_parked(cur: Cursor, projection: str, events: Sequence[ParkedEvent]) -> None:
    """Make `events` the parked events of `projection` (a rebuild's, swapped in)."""
    cur.execute(f"DELETE FROM {PARKED_TABLE} WHERE projection = ?", (projection,))  # noqa: S608
    cur.executemany(
        f"INSERT INTO {PARKED_TABLE}"  # noqa: S608
        " (projection, position, topic, error, attempts, parked_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(e.projection, e.position, e.topic, e.error, e.attempts, e.parked_at) for e in events],
    )


def parked(
    db: Database, projection: str | None = None, limit: int | None = None
) -> list[ParkedEvent]:
    """The parked events (of one projection, or all; the first `limit`), by projection and
    position."""
    where, params = ("WHERE projection = ?", (projection,)) if projection else ("", ())
    cap = f" LIMIT {int(limit)}" if limit is not None else ""
    rows = db.fetchall(
        "SELECT projection, position, topic, error, attempts, parked_at"  # noqa: S608
        f" FROM {PARKED_TABLE} {where} ORDER BY projection, position{cap}",
        params,
    )
    return [
        ParkedEvent(
            str(r["projection"]),
            int(r["position"]),
            str(r["topic"]),
            str(r["error"]),
            int(r["attempts"]),
            str(r["parked_at"]),
        )
        for r in rows
    ]


def parked_counts(db: Database) -> dict[str, int]:
    """How many events each projection has parked (projections with none are left out)."""
    rows = db.fetchall(
        f"SELECT projection, COUNT(*) AS n FROM {PARKED_TABLE} GROUP BY projection"  # noqa: S608
    )
    return {str(r["projection"]): int(r["n"]) for r in rows}
