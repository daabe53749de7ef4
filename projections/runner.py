"""The projection runner: feeds read models from the event log, exactly once, in log order.

Each read model (a `Projection`, projections/base.py) names its tables, the event topics it
cares about, and an `apply` that writes what one event changes. The runner reads the events
after the projection's tracked position, in batches, decodes them with the application's own
mapper (so cipher and transcodings match), and writes the view rows and the new position in
one transaction. The position is moved with a guarded UPDATE (`… WHERE position = <what we
read from>`), so when two runners race for the same batch the loser changes nothing: a crash
or a second runner never skips or double-applies an event.

Reading the log and decoding events is a large part of the cost, so projections share it:
those at one position share a round's read and its one transaction while following the log
(projections/rounds.py: each read model under a savepoint, so one's failure never aborts
the others), and `rebuild_all` rebuilds several read models in one pass
(projections/rebuild.py), each event decoded once for all of them.

A read model that fails on an event does not stop the others, nor itself for good: its
batch is applied again one event at a time, the events before the culprit are kept, the
culprit is retried with backoff and then parked (projections/batches.py, parking.py). An
error of the database's availability parks nothing: the round stops and is retried after a
pause.

PostgreSQL: the runner wakes on LISTEN for the events table's channel (the recorder NOTIFYs
on every insert) with a slow poll as fallback, and leads each projection under a session
advisory lock on a dedicated connection (adapters/sessions.py); another instance waits as
standby. SQLite polls. While the database is unavailable the loop retries with backoff and
logs the outage once (adapters/outage.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

from eventsourcing.persistence import Notification

from adapters.database import Database
from adapters.outage import Outage
from adapters.service import Leadership, Service
from adapters.sessions import advisory_key, open_session
from application.minqing import Minqing
from projections import parking, rounds
from projections.base import (
    POSITIONS_TABLE,
    Projection,
    ProjectionStatus,
    RebuildReport,
    Recorded,
    Table,
    create_tables,
)
from projections.rebuild import Rebuild

# Read models import these from here, as they always have.
__all__ = [
    "BATCH_SIZE",
    "POSITIONS_TABLE",
    "Projection",
    "ProjectionRunner",
    "ProjectionStatus",
    "RebuildReport",
    "Recorded",
    "Table",
    "running",
]

log = logging.getLogger("minqing.projections")

BATCH_SIZE = 500
# A rebuild reads larger batches: it is a bulk load, and nothing waits on its positions.
REBUILD_BATCH_SIZE = 2000
# SQLite has no notifications: poll at most this far apart (the issue asks for ≤ 200 ms).
POLL_SECONDS = 0.2
# PostgreSQL wakes on NOTIFY; this slow poll only covers a lost notification or connection.
PG_FALLBACK_POLL_SECONDS = 1.0
# How often a standby asks again for a projection's advisory lock.
STANDBY_RETRY_SECONDS = 2.0
# After a round failed for the database's sake (down, restarting, locked), wait this long.
ERROR_BACKOFF_SECONDS = 1.0


class ProjectionRunner(Service):
    """Feeds projections from the event log; in a background thread or in the foreground."""

    thread_name = "minqing-projections"

    def __init__(
        self,
        app: Minqing,
        projections: Sequence[Projection],
        *,
        batch_size: int = BATCH_SIZE,
        rebuild_batch_size: int = REBUILD_BATCH_SIZE,
        poll_seconds: float = POLL_SECONDS,
        standby_retry_seconds: float = STANDBY_RETRY_SECONDS,
        leader_election: bool = True,
        park_after: int = parking.PARK_AFTER,
        retry_seconds: float = parking.RETRY_SECONDS,
        error_backoff_seconds: float = ERROR_BACKOFF_SECONDS,
        outage: Outage | None = None,
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            msg = f"projection names must be unique: {names}"
            raise ValueError(msg)
        super().__init__(outage or Outage("projection runner", log), log)
        self.app = app
        self.db: Database = app.db
        self.projections = list(projections)
        self.batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size
        self.poll_seconds = poll_seconds
        self.standby_retry_seconds = standby_retry_seconds
        self.error_backoff_seconds = error_backoff_seconds
        # Each read model's failing event: how often it failed, when to try it again.
        self.failures = parking.Failures(park_after, retry_seconds)
        # Leader election needs PostgreSQL's advisory locks; on SQLite one process runs them.
        self.leadership = Leadership(
            {p.name: _lock_key(p.name) for p in self.projections},
            election=leader_election and self.db.dialect.shared,
            retry_seconds=standby_retry_seconds,
            log=log,
            what="projection %s",
        )
        # Batches dropped because another runner moved the position first.
        self.superseded = 0
        # Notified after every committed batch, so read-your-writes waits wake at once.
        self.advanced = threading.Condition()
        # What setup rebuilt because the stored version was not the code's.
        self.rebuilt: list[RebuildReport] = []
        self.setup()

    # -- tables and positions ------------------------------------------------------------

    def setup(self) -> None:
        """Create the positions table, the projections' tables and their position rows;
        then rebuild each projection whose stored version is not the code's.

        Only what is missing: DDL on a table that exists would still lock it (PostgreSQL's
        CREATE INDEX IF NOT EXISTS takes a SHARE lock first), and a process starting next
        to a running worker must not block it or deadlock with its batch.
        """
        create_tables(
            self.db,
            self.projections,
            _lock_key("setup"),
            {parking.PARKED_TABLE: parking.PARKED_DDL},
        )
        rows = self.db.fetchall(f"SELECT name FROM {POSITIONS_TABLE}")  # noqa: S608
        known = {str(r["name"]) for r in rows}
        for p in self.projections:
            if p.name not in known:
                self.db.execute(
                    f"INSERT INTO {POSITIONS_TABLE} (name, position, version)"  # noqa: S608
                    " VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING",
                    (p.name, p.version),
                )
        stale = [p.name for p in self.projections if self.version(p.name) != p.version]
        reports = self._rebuild(stale, only_if_stale=True) if stale else []
        self.rebuilt = [r for r in reports if r.swapped]

    def head(self) -> int:
        """The highest position in the event log (0 when it is empty)."""
        return int(self.app.recorder.max_notification_id() or 0)

    def version(self, name: str) -> int:
        """The version of projection `name` that its tables hold (0: no row yet)."""
        row = self.db.fetchone(
            f"SELECT version FROM {POSITIONS_TABLE} WHERE name = ?",  # noqa: S608
            (name,),
        )
        return int(row["version"]) if row else 0

    def position(self, name: str) -> int:
        """The position a projection has processed up to."""
        row = self.db.fetchone(
            f"SELECT position FROM {POSITIONS_TABLE} WHERE name = ?",  # noqa: S608
            (name,),
        )
        return int(row["position"]) if row else 0

    def status(self) -> list[ProjectionStatus]:
        """Each projection's position, lag and count of parked events."""
        head = self.head()
        positions = self._positions()
        counts = parking.parked_counts(self.db)
        return [
            ProjectionStatus(p.name, positions.get(p.name, 0), head, counts.get(p.name, 0))
            for p in self.projections
        ]

    @property
    def park_after(self) -> int:
        """How many times in a row an event may fail before it is parked."""
        return self.failures.park_after

    def parked(
        self, name: str | None = None, limit: int | None = None
    ) -> list[parking.ParkedEvent]:
        """The events parked by this runner's projections (or by one: its first `limit`),
        by projection and position."""
        if name is None:
            mine = set(self.names())
            return [e for e in parking.parked(self.db) if e.projection in mine]
        self.projection(name)  # KeyError for a name that is not one of them
        return parking.parked(self.db, name, limit)

    def retry(self, name: str) -> parking.RetryReport:
        """Apply projection `name`'s parked events again, after a fix, by rebuilding it.

        A rebuild folds every event in log order into fresh tables and swaps them in with
        the events that still fail parked (with their new error): applying an old event on
        top of rows that later events already changed would be wrong for a row fold.
        """
        before = {e.position for e in self.parked(name)}
        report = self.rebuild(name)
        still = self.parked(name)
        unparked = sorted(before - {e.position for e in still}) if report.swapped else []
        return parking.RetryReport(report, unparked, still)

    def wait_for(self, name: str, position: int, timeout: float) -> int:
        """Wait until projection `name` has reached `position` or `timeout` seconds pass;
        returns the projection's position then."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.position(name)
            remaining = deadline - time.monotonic()
            if current >= position or remaining <= 0:
                return current
            # The runner may be another process: re-read the table at least every 50 ms.
            with self.advanced:
                self.advanced.wait(min(0.05, remaining))

    # -- processing ----------------------------------------------------------------------

    def run_once(self, names: set[str] | None = None) -> int:
        """Process at most one batch of each projection (all, or those in `names`);
        returns how many positions the projections moved on, in total.

        Projections at one position near the head share a read of the log and a
        transaction; one further behind catches up alone (projections/rounds.py).
        """
        return rounds.run_once(self, names)

    def catch_up(self) -> None:
        """Process batches until a round moves nothing and no failing event waits for its
        retry: caught up with the head, with every failing event applied or parked (or
        another runner is doing the work)."""
        while True:
            if self.run_once():
                continue
            wait = self.failures.next_retry_in()
            if wait is None:
                return
            time.sleep(wait)

    def _positions(self) -> dict[str, int]:
        rows = self.db.fetchall(f"SELECT name, position FROM {POSITIONS_TABLE}")  # noqa: S608
        return {str(r["name"]): int(r["position"]) for r in rows}

    def _recorded(self, batch: Sequence[Notification]) -> list[Recorded]:
        return [Recorded(n, self.app) for n in batch]

    def _read(
        self, topics: Sequence[str] | None, after: int, upto: int, size: int = 0
    ) -> tuple[list[Notification], int]:
        """The next batch (`size` events, default the runner's batch size) of these topics
        (None: all) after `after`, not beyond `upto`, and the position it reaches.

        A short batch means nothing else of these topics lies at or below `upto`, so the
        position moves to `upto` even across events of other topics and gaps; with the
        insert-order table lock every position below the head is committed or burned.
        """
        size = size or self.batch_size
        batch = list(
            self.app.recorder.select_notifications(
                after,
                size,
                stop=upto,
                topics=list(topics or ()),
                inclusive_of_start=False,
            )
        )
        end = int(batch[-1].id) if len(batch) == size else upto
        return batch, end

    # -- the loop --------------------------------------------------------------------------

    @property
    def leader_election(self) -> bool:
        """True when each projection has one leader and standbys (PostgreSQL)."""
        return self.leadership.election

    @property
    def leading(self) -> set[str]:
        """The projections this runner leads (none is led without an election)."""
        return self.leadership.held if self.leader_election else set()

    def run(self, stop: threading.Event) -> None:
        """Feed the projections until `stop` is set; the batch in hand is finished first."""
        for p in self.projections:
            p.warm()
        session = open_session(self.app, self.outage, on_lost=self.leadership.lost)
        # PostgreSQL wakes on NOTIFY, so its wait can be long; SQLite is polled.
        idle = (
            max(self.poll_seconds, PG_FALLBACK_POLL_SECONDS)
            if session.listens
            else self.poll_seconds
        )
        try:
            while not stop.is_set():
                if not self.outage.ready(stop, session.ping):
                    continue
                led = self.leadership.elect(session) if self.leader_election else None
                moved = 0
                if led is None or led:
                    # The database's availability is waited out, for as long as it takes; a
                    # read model's own failures are parked in the round.
                    done = self.attempt(
                        partial(self.run_once, led),
                        stop,
                        "projection batch failed; retrying",
                        self.error_backoff_seconds,
                    )
                    if done.result is None:
                        continue
                    moved = done.result
                if not moved:
                    retry = self.failures.next_retry_in()
                    session.wait(idle if retry is None else max(0.01, min(idle, retry)), stop)
        finally:
            session.close()
            self.leadership.reset()

    # -- rebuild ---------------------------------------------------------------------------

    def projection(self, name: str) -> Projection:
        """The projection called `name`."""
        for p in self.projections:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.projections)
        msg = f"no projection {name!r} (known: {known})"
        raise KeyError(msg)

    def rebuild(self, name: str) -> RebuildReport:
        """Rebuild a projection from position zero into fresh tables, then swap them in
        (projections/rebuild.py); if anything fails, the live tables stay as they were."""
        [report] = self._rebuild([name], only_if_stale=False)
        return report

    def rebuild_all(self, names: Sequence[str] | None = None) -> list[RebuildReport]:
        """Rebuild several projections (default: every one) in one pass over the log, each
        event decoded once, and swap them in together: all of them or, on failure, none."""
        chosen = list(dict.fromkeys(names if names is not None else self.names()))
        return self._rebuild(chosen, only_if_stale=False)

    def names(self) -> list[str]:
        """The names of this runner's projections."""
        return [p.name for p in self.projections]

    def _rebuild(self, names: Sequence[str], *, only_if_stale: bool) -> list[RebuildReport]:
        return Rebuild(self, names).run(only_if_stale=only_if_stale)


def _lock_key(name: str) -> int:
    """The advisory-lock key of a projection's leader (and of the setup)."""
    return advisory_key("projection", name)


@contextmanager
def running(runner: ProjectionRunner) -> Iterator[ProjectionRunner]:
    """Run `runner` in a background thread for the duration of a `with` block."""
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
