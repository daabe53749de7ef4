"""The projection runner: feeds read models from the event log, exactly once, in log order.

Each read model (a `Projection`) names its tables, the event topics it cares about, and an
`apply` that writes what one event changes. The runner reads the events after the
projection's tracked position, in batches, decodes them with the application's own mapper
(so cipher and transcodings match), and writes the view rows and the new position in one
transaction. The position is moved with a guarded UPDATE (`… WHERE position = <what we read
from>`), so when two runners race for the same batch the loser changes nothing: a crash or a
second runner never skips or double-applies an event.

Reading the log and decoding events is a large part of the cost, so projections share it:
those at one position share a round's read while following the log, and `rebuild_all`
rebuilds several read models in one pass, each event decoded once for all of them.

PostgreSQL: the runner wakes on LISTEN for the events table's channel (the recorder NOTIFYs
on every insert) with a slow poll as fallback, and leads each projection under a session
advisory lock on a dedicated connection (domain/pgsession.py); another instance waits as
standby. SQLite polls. While the database is unavailable the loop retries with backoff and
logs the outage once (domain/outage.py).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from eventsourcing.persistence import Notification

from domain.application import Minqing
from domain.outage import Outage, unavailable
from domain.pgsession import Session, advisory_key, open_session
from domain.store import Cursor, Database

log = logging.getLogger("minqing.projections")

POSITIONS_TABLE = "minqing_projection_positions"
BATCH_SIZE = 500
# A rebuild reads larger batches: it is a bulk load, and nothing waits on its positions.
REBUILD_BATCH_SIZE = 2000
# SQLite has no notifications: poll at most this far apart (the issue asks for ≤ 200 ms).
POLL_SECONDS = 0.2
# PostgreSQL wakes on NOTIFY; this slow poll only covers a lost notification or connection.
PG_FALLBACK_POLL_SECONDS = 1.0
# How often a standby asks again for a projection's advisory lock.
STANDBY_RETRY_SECONDS = 2.0
# After a failed batch (database down, a bug in apply) wait before trying it again.
ERROR_BACKOFF_SECONDS = 1.0
# PostgreSQL identifiers are cut at 63 bytes; a rebuild suffix must still fit.
_MAX_IDENTIFIER = 63
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Table:
    """One table of a read model: its column definitions and its secondary indexes."""

    name: str
    columns: str
    indexes: Mapping[str, str] = field(default_factory=dict)  # index name suffix -> "(cols)"

    def ddl(self, suffix: str = "") -> list[str]:
        """The statements that create this table (and its indexes) under `name + suffix`."""
        return [self.create(suffix), *self.index_ddl(suffix)]

    def create(self, suffix: str = "") -> str:
        """The statement that creates this table, without its secondary indexes."""
        return f"CREATE TABLE IF NOT EXISTS {_identifier(self.name + suffix)} ({self.columns})"

    def index_ddl(self, suffix: str = "") -> list[str]:
        """The statements that create this table's secondary indexes."""
        physical = _identifier(self.name + suffix)
        return [
            f"CREATE INDEX IF NOT EXISTS {_identifier(f'{physical}__{ix}')} ON {physical} {cols}"
            for ix, cols in self.indexes.items()
        ]


class Recorded:
    """One stored event as a projection sees it: its log position, and the decoded event."""

    def __init__(self, notification: Notification, app: Minqing) -> None:
        self.notification = notification
        self._app = app

    @property
    def position(self) -> int:
        """The event's position in the log (its notification id)."""
        return int(self.notification.id)

    # Cached: one Recorded is shared by every projection that reads its event.
    @cached_property
    def type_name(self) -> str:
        """The event class's qualified name, e.g. `Concern.Raised`, read from the topic."""
        return self.notification.topic.rpartition(":")[2]

    @cached_property
    def originator_id(self) -> str:
        """The id of the event's aggregate, as text."""
        return str(self.notification.originator_id)

    @cached_property
    def event(self) -> Any:
        """The domain event, decoded only when a projection asks for it."""
        return self._app.mapper.to_domain_event(self.notification)


class Projection(ABC):
    """A read model: tables, the topics it reads (None: every event) and how to apply one."""

    name: ClassVar[str]
    tables: ClassVar[Sequence[Table]]
    topics: ClassVar[Sequence[str] | None] = None
    # Raise it whenever the tables or what `apply` writes change: the runner then rebuilds
    # the projection at setup, so a database made by older code gets the new shape.
    version: ClassVar[int] = 1

    def __init__(self, suffix: str = "") -> None:
        # A rebuild writes a second instance of the projection into suffixed tables.
        self.suffix = suffix

    def table(self, name: str) -> str:
        """The physical name of one of this projection's tables."""
        return name + self.suffix

    @abstractmethod
    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        """Write what one event changes; runs inside the batch's transaction."""

    def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Write what a batch of events changes, in log order; by default one at a time.

        A read model that can fold a batch in memory overrides this to write each row once
        per batch (projections/rows.py): a round trip per event is what bounds a rebuild.
        """
        for recorded in batch:
            self.apply(cur, recorded)


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection is in the log, and how far behind the head."""

    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        """Log positions between the projection and the head (gaps count too)."""
        return max(0, self.head - self.position)

    def as_dict(self) -> dict[str, int]:
        """Plain data for /readyz and the CLI."""
        return {"position": self.position, "head": self.head, "lag": self.lag}


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did."""

    name: str
    events: int
    position: int
    seconds: float
    # False when a rebuild for a stale version found another process had swapped one in.
    swapped: bool = True


class _Superseded(Exception):
    """Another runner moved the position first: this batch must not be applied."""


class ProjectionRunner:
    """Feeds projections from the event log; in a background thread or in the foreground."""

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
        outage: Outage | None = None,
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            msg = f"projection names must be unique: {names}"
            raise ValueError(msg)
        self.app = app
        self.db: Database = app.db
        self.projections = list(projections)
        self.batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size
        self.poll_seconds = poll_seconds
        self.standby_retry_seconds = standby_retry_seconds
        # Leader election needs PostgreSQL's advisory locks; on SQLite one process runs them.
        self.leader_election = leader_election and self.db.dialect == "postgres"
        self.leading: set[str] = set()
        self.last_error: str | None = None
        self.outage = outage or Outage("projection runner", log)
        # Batches dropped because another runner moved the position first.
        self.superseded = 0
        # Notified after every committed batch, so read-your-writes waits wake at once.
        self.advanced = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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
        missing = [
            statement
            for p in self.projections
            for table in p.tables
            if not _table_exists(self.db, p.table(table.name))
            for statement in table.ddl(p.suffix)
        ]
        positions_exist = _table_exists(self.db, POSITIONS_TABLE)
        if not positions_exist:
            missing.insert(
                0,
                f"CREATE TABLE IF NOT EXISTS {POSITIONS_TABLE} ("
                " name TEXT PRIMARY KEY, position BIGINT NOT NULL,"
                " version BIGINT NOT NULL DEFAULT 1)",
            )
        has_column = _column_sql(self.db)
        unversioned = not missing and not self.db.fetchone(has_column, (POSITIONS_TABLE, "version"))
        if missing or unversioned:
            with self.db.transaction() as cur:
                if self.db.dialect == "postgres":
                    # Processes starting together would race on CREATE TABLE IF NOT EXISTS.
                    # (SQLite's transaction takes the write lock first: domain/store.py.)
                    cur.execute("SELECT pg_advisory_xact_lock(?)", (_lock_key("setup"),))
                for statement in missing:
                    cur.execute(statement)
                cur.execute(has_column, (POSITIONS_TABLE, "version"))  # again, under the lock
                if cur.fetchone() is None:
                    # A database from before projections had versions: what it holds is
                    # version 1 of each.
                    cur.execute(
                        f"ALTER TABLE {POSITIONS_TABLE}"
                        " ADD COLUMN version BIGINT NOT NULL DEFAULT 1"
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
        """Each projection's position and lag."""
        head = self.head()
        rows = self.db.fetchall(f"SELECT name, position FROM {POSITIONS_TABLE}")  # noqa: S608
        positions = {str(r["name"]): int(r["position"]) for r in rows}
        return [ProjectionStatus(p.name, positions.get(p.name, 0), head) for p in self.projections]

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

        Projections at the same position and less than a batch behind the head (the usual
        case while following the log) share one read of the log, and each event is decoded
        once for all of them; each still commits in a transaction of its own. A projection
        further behind reads a batch of its own topics only, so it catches up at its pace.
        """
        head = self.head()
        positions = self._positions()
        behind = [
            (p, positions.get(p.name, 0))
            for p in self.projections
            if (names is None or p.name in names) and positions.get(p.name, 0) < head
        ]
        near: dict[int, list[Projection]] = {}
        for p, start in behind:
            if head - start < self.batch_size:
                near.setdefault(start, []).append(p)
        shared: dict[int, tuple[list[Recorded], int]] = {}
        moved = 0
        for p, start in behind:
            if start in near:
                if start not in shared:
                    batch, end = self._read(_topics(near[start]), start, head)
                    shared[start] = self._recorded(batch), end
                everything, end = shared[start]
                recorded = _reading(p, everything)
            else:
                batch, end = self._read(p.topics, start, head)
                recorded = self._recorded(batch)
            moved += self._step(p, start, end, recorded)
        return moved

    def catch_up(self) -> None:
        """Process batches until a round moves nothing: caught up with the head (or another
        runner is doing the work)."""
        while self.run_once():
            pass

    def _step(self, p: Projection, start: int, end: int, batch: Sequence[Recorded]) -> int:
        """Apply `batch`, the projection's events in (start, end], and move its position."""
        try:
            with self.db.transaction() as cur:
                cur.execute(
                    f"UPDATE {POSITIONS_TABLE} SET position = ?"  # noqa: S608
                    " WHERE name = ? AND position = ? RETURNING position",
                    (end, p.name, start),
                )
                if cur.fetchone() is None:
                    raise _Superseded
                p.apply_batch(cur, batch)
        except _Superseded:
            self.superseded += 1
            log.debug("projection %s: another runner processed (%d, %d]", p.name, start, end)
            return 0
        with self.advanced:
            self.advanced.notify_all()
        return end - start

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

    def run(self, stop: threading.Event) -> None:
        """Feed the projections until `stop` is set; the batch in hand is finished first."""
        session = self._session()
        # PostgreSQL wakes on NOTIFY, so its wait can be long; SQLite is polled.
        idle = (
            max(self.poll_seconds, PG_FALLBACK_POLL_SECONDS)
            if session.listens
            else self.poll_seconds
        )
        next_election = 0.0
        try:
            while not stop.is_set():
                if not self.outage.ready(stop, session.ping):
                    continue
                if self.leader_election and time.monotonic() >= next_election:
                    self._elect(session)
                    next_election = time.monotonic() + self.standby_retry_seconds
                led = self.leading if self.leader_election else None
                moved = 0
                if led is None or led:
                    try:
                        moved = self.run_once(led)
                        self.last_error = None
                        self.outage.recovered()
                    except Exception as exc:  # keep the worker alive; the batch rolled back
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        if unavailable(exc):  # logged once per outage, retried with backoff
                            self.outage.failed(exc)
                            continue
                        log.exception("projection batch failed; retrying")
                        stop.wait(ERROR_BACKOFF_SECONDS)
                        continue
                if not moved:
                    session.wait(idle, stop)
        finally:
            session.close()
            self.leading = set()

    def _elect(self, session: Session) -> None:
        for p in self.projections:
            if p.name not in self.leading and session.try_lock(_lock_key(p.name)):
                self.leading.add(p.name)
                log.info("leading projection %s", p.name)
        standby = sorted({p.name for p in self.projections} - self.leading)
        if standby:
            log.debug("standby for %s", ", ".join(standby))

    def _session(self) -> Session:
        return open_session(self.app, self.outage, on_lost=self._lost)

    def _lost(self) -> None:
        self.leading = set()  # the advisory locks died with the session's connection

    def start(self) -> None:
        """Run in a background thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="minqing-projections", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread after its current batch."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

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
        """Rebuild a projection from position zero into fresh tables, then swap them in.

        Readers keep the live tables until the swap, which is one short transaction under
        the live position's row lock: the fresh tables are caught up to (at least) the live
        position, the position is set to theirs (and the version to the code's), and the
        tables are renamed. If anything fails, the fresh tables are dropped and the live
        ones stay as they were.
        """
        [report] = self._rebuild([name], only_if_stale=False)
        return report

    def rebuild_all(self, names: Sequence[str] | None = None) -> list[RebuildReport]:
        """Rebuild several projections (default: every one) in one pass over the log, with
        `rebuild`'s guarantees for all of them together.

        Each batch is read once and each event decoded once; every projection folds the
        events of its topics into its fresh tables, in one transaction per batch. The swap
        takes every live position's row lock (in name order) and swaps all the tables in one
        transaction: all of them or, if anything fails, none.
        """
        chosen = list(dict.fromkeys(names if names is not None else self.names()))
        return self._rebuild(chosen, only_if_stale=False)

    def names(self) -> list[str]:
        """The names of this runner's projections."""
        return [p.name for p in self.projections]

    def _rebuild(self, names: Sequence[str], *, only_if_stale: bool) -> list[RebuildReport]:
        """`rebuild_all`; with `only_if_stale`, a projection whose code's version another
        process has swapped in meanwhile is given up (not swapped), the others are."""
        lives = [self.projection(name) for name in names]
        suffix = f"__rb{secrets.token_hex(4)}"
        fresh = [type(live)(suffix=suffix) for live in lives]
        topics = _topics(fresh)
        applied = dict.fromkeys(names, 0)
        started = time.monotonic()
        for live in lives if only_if_stale else ():
            log.info(
                "projection %s: stored version differs from %d, rebuilding",
                live.name,
                live.version,
            )
        # The secondary indexes come after the bulk of the rows: built once, not row by row.
        with self.db.transaction() as cur:
            for f in fresh:
                for table in f.tables:
                    cur.execute(table.create(f.suffix))
        swapped: list[str] = []
        position = 0
        try:
            # The bulk of the work, while the live projections keep serving.
            position = self._fill(fresh, topics, position, applied)
            if self.db.dialect == "postgres":
                # SQLite cannot rename an index: the swap builds them under the live names.
                with self.db.transaction() as cur:
                    for f in fresh:
                        for table in f.tables:
                            for statement in table.index_ddl(f.suffix):
                                cur.execute(statement)
                position = self._fill(fresh, topics, position, applied)
            with self.db.transaction() as cur:
                # Taking the row locks first makes the live runner wait, then find its
                # position moved and re-read its batch. In name order, so two rebuilds
                # never wait for each other in a circle.
                live_positions: dict[str, int] = {}
                for live in sorted(lives, key=lambda p: p.name):
                    cur.execute(
                        f"UPDATE {POSITIONS_TABLE} SET position = position"  # noqa: S608
                        " WHERE name = ? RETURNING position, version",
                        (live.name,),
                    )
                    row = cur.fetchone()
                    if only_if_stale and row and int(row["version"]) == live.version:
                        continue  # a process starting next to this one was first
                    live_positions[live.name] = int(row["position"]) if row else 0
                target = max(live_positions.values(), default=0)
                while position < target:
                    batch, position = self._read(topics, position, target, self.rebuild_batch_size)
                    _apply(cur, fresh, self._recorded(batch), applied)
                for live, f in zip(lives, fresh, strict=True):
                    if live.name not in live_positions:
                        continue
                    cur.execute(
                        f"UPDATE {POSITIONS_TABLE} SET position = ?, version = ?"  # noqa: S608
                        " WHERE name = ?",
                        (position, live.version, live.name),
                    )
                    for statement in _swap_statements(self.db, cur, live, f):
                        cur.execute(statement)
                    swapped.append(live.name)
        except BaseException:
            self._drop(fresh)
            raise
        self._drop([f for live, f in zip(lives, fresh, strict=True) if live.name not in swapped])
        if swapped:
            with self.advanced:
                self.advanced.notify_all()
        seconds = time.monotonic() - started
        return [
            RebuildReport(name, applied[name], position, seconds, name in swapped) for name in names
        ]

    def _fill(
        self,
        fresh: Sequence[Projection],
        topics: Sequence[str] | None,
        position: int,
        applied: dict[str, int],
    ) -> int:
        """Feed the fresh projections from `position` to the head, a transaction per batch;
        the position reached."""
        while True:
            head = self.head()
            if position >= head:
                return position
            batch, position = self._read(topics, position, head, self.rebuild_batch_size)
            with self.db.transaction() as cur:
                _apply(cur, fresh, self._recorded(batch), applied)

    def _drop(self, fresh: Sequence[Projection]) -> None:
        if not fresh:
            return
        with self.db.transaction() as cur:
            for p in fresh:
                for table in p.tables:
                    cur.execute(f"DROP TABLE IF EXISTS {p.table(table.name)}")


def _topics(projections: Sequence[Projection]) -> list[str] | None:
    """The topics any of these projections reads (None: every event)."""
    if any(p.topics is None for p in projections):
        return None
    return sorted({t for p in projections for t in p.topics or ()})


def _reading(p: Projection, batch: Sequence[Recorded]) -> list[Recorded]:
    """The events of `batch` that projection `p` reads."""
    if p.topics is None:
        return list(batch)
    topics = frozenset(p.topics)
    return [r for r in batch if r.notification.topic in topics]


def _apply(
    cur: Cursor,
    projections: Sequence[Projection],
    batch: Sequence[Recorded],
    applied: dict[str, int],
) -> None:
    """Fold one batch into several projections; the Recorded objects (and the events they
    decode) are shared, so each event is decoded once."""
    for p in projections:
        events = _reading(p, batch)
        if events:
            p.apply_batch(cur, events)
            applied[p.name] += len(events)


# -- the dialect differences of the runner, in one place ------------------------------------


def _identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name) or len(name) > _MAX_IDENTIFIER:
        msg = f"not a usable table or index name: {name!r}"
        raise ValueError(msg)
    return name


def _table_exists(db: Database, name: str) -> bool:
    if db.dialect == "postgres":
        sql = (
            "SELECT 1 AS found FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = ?"
        )
    else:
        sql = "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.fetchone(sql, (name,)) is not None


def _column_sql(db: Database) -> str:
    """A query that finds a row when table ? has a column named ?."""
    if db.dialect == "postgres":
        return (
            "SELECT 1 AS found FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?"
        )
    return "SELECT 1 AS found FROM pragma_table_info(?) WHERE name = ?"


def _lock_key(name: str) -> int:
    """The advisory-lock key of a projection's leader (and of the setup)."""
    return advisory_key("projection", name)


def _swap_statements(db: Database, cur: Cursor, live: Projection, fresh: Projection) -> list[str]:
    """Drop the live tables and give the fresh ones (and their indexes) the live names."""
    statements = []
    for table in live.tables:
        old, new = live.table(table.name), fresh.table(table.name)
        statements += [f"DROP TABLE IF EXISTS {old}", f"ALTER TABLE {new} RENAME TO {old}"]
        if db.dialect == "postgres":
            # Index names are global and survive a table rename: give them the live names.
            cur.execute(
                "SELECT indexname FROM pg_indexes"
                " WHERE schemaname = current_schema() AND tablename = ?",
                (new,),
            )
            for row in cur.fetchall():
                index = str(row["indexname"])
                if index.startswith(new):
                    renamed = _identifier(old + index[len(new) :])
                    statements.append(f"ALTER INDEX {index} RENAME TO {renamed}")
        else:
            # SQLite cannot rename an index: build it again under the live name.
            for ix, cols in table.indexes.items():
                statements.append(f"DROP INDEX IF EXISTS {new}__{ix}")
                statements.append(f"CREATE INDEX {old}__{ix} ON {old} {cols}")
    return statements


@contextmanager
def running(runner: ProjectionRunner) -> Iterator[ProjectionRunner]:
    """Run `runner` in a background thread for the duration of a `with` block."""
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
