"""PostgreSQL, the production store: its dialect, its recorder, its `postgresql://…`
settings, and a worker's own session (LISTEN for new events, leader locks).

Several processes share it: workers lead under session advisory locks (a standby takes over
when a leader's connection dies), wake on the NOTIFY the recorder sends in each inserting
transaction, and tables are created under a transaction advisory lock. Text can hold no NUL
(`storable`). The pool the library builds is tuned in adapters/pgpool.py.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import retry
from psycopg import sql

from adapters import pgpool, side_tables
from adapters.database import SCHEMA_LOCK, Cursor, Database, Dialect, DriverCursor
from adapters.writer import Job, Writer
from application.ports import Ports

if TYPE_CHECKING:
    from adapters.outage import Outage
    from adapters.sessions import Session

# How long one wait for a notification lasts at most, so a stop (or a kick) is prompt.
SLICE_SECONDS = 0.1
KICKED_SLICE_SECONDS = 0.05
_GUARD_LOCK = 0x6D71_6764  # "mqgd"


def _to_pg(text: str) -> str:
    # SQL is written once with qmark placeholders; psycopg wants %s.
    return text.replace("%", "%%").replace("?", "%s")


def storable(params: tuple[Any, ...]) -> tuple[Any, ...]:
    """`params` with NUL in any text replaced by U+FFFD REPLACEMENT CHARACTER.

    PostgreSQL's text cannot hold NUL. The edge refuses it (domain/text.py), but an event
    already in the log (recorded by older code) must still project, not stop its read model
    for good, so every parameter sent through a Cursor on PostgreSQL passes here."""
    # `__class__ is str`, not isinstance or type(): the cheapest test (≈ 0.6 µs a row of 21
    # values), and it runs on every row a rebuild writes. Enum values cannot hold NUL.
    for value in params:
        if value.__class__ is str and "\x00" in value:
            return tuple(v.replace("\x00", "\ufffd") if v.__class__ is str else v for v in params)
    return params


class Postgres(Dialect):
    """PostgreSQL's SQL."""

    position_column = "notification_id"
    serial_id = "BIGSERIAL PRIMARY KEY"
    blob = "BYTEA"
    shared = True
    renames_indexes = True

    def execute(self, cursor: DriverCursor, sql: str, params: tuple[Any, ...]) -> None:
        """Run one statement with psycopg's placeholders, never a NUL in text."""
        cursor.execute(_to_pg(sql), storable(params))

    def executemany(self, cursor: DriverCursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run one statement per row (psycopg pipelines them)."""
        cursor.executemany(_to_pg(sql), [storable(row) for row in rows])

    def insert_new(
        self,
        cursor: DriverCursor,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """COPY: a sixth of the client's work per row of an INSERT, and one round trip."""
        driver: Any = cursor
        with driver.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(storable(row))

    def begin_write(self, cursor: Cursor) -> None:
        """Nothing to do: rows are locked as they are written."""

    def begin_bulk(self, cursor: Cursor) -> None:
        """Asynchronous commit: the WAL is flushed in the background. Whatever commits
        after it synchronously (the rebuild's swap) flushes it first, so the rows a
        swap serves are as durable as ever."""
        cursor.execute("SET LOCAL synchronous_commit = off")

    def begin_snapshot(self, cursor: Cursor) -> None:
        """The default isolation takes a new snapshot per statement: ask for one."""
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def lock(self, cursor: Cursor, key: int) -> None:
        """A transaction advisory lock."""
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    def originator_id(self, aggregate_id: UUID) -> Any:
        """The recorder stores a uuid."""
        return str(aggregate_id)

    def table_exists_sql(self) -> str:
        """Ask information_schema, in the current schema."""
        return (
            "SELECT 1 AS found FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = ?"
        )

    def column_exists_sql(self) -> str:
        """Ask information_schema, in the current schema."""
        return (
            "SELECT 1 AS found FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?"
        )

    def add_column(self, cursor: Cursor, table: str, column: str, kind: str) -> None:
        """ADD COLUMN IF NOT EXISTS."""
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")

    def index_renames(self, cursor: Cursor, live: str, fresh: str, indexes: Any) -> list[str]:
        """Index names are global and survive a table rename: give them the live names."""
        cursor.execute(
            "SELECT indexname FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = ?",
            (fresh,),
        )
        return [
            f"ALTER INDEX {index} RENAME TO {live + index[len(fresh) :]}"
            for index in (str(row["indexname"]) for row in cursor.fetchall())
            if index.startswith(fresh)
        ]

    def protect(self, cursor: Cursor, tables: Sequence[str]) -> None:
        """Triggers that refuse UPDATE, DELETE and TRUNCATE (idempotent)."""
        # Serialise concurrent starts: CREATE OR REPLACE FUNCTION races otherwise.
        self.lock(cursor, _GUARD_LOCK)
        cursor.execute(
            "CREATE OR REPLACE FUNCTION minqing_refuse_change() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'minqing: % on % refused: the table is append-only',"
            " TG_OP, TG_TABLE_NAME;"
            " END $$"
        )
        for table in tables:
            for name, when, each in (
                ("minqing_append_only", "BEFORE UPDATE OR DELETE", "ROW"),
                ("minqing_no_truncate", "BEFORE TRUNCATE", "STATEMENT"),
            ):
                cursor.execute(
                    "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(?) AND tgname = ?",
                    (table, name),
                )
                if cursor.fetchone() is None:
                    cursor.execute(
                        f"CREATE TRIGGER {name} {when} ON {table}"
                        f" FOR EACH {each} EXECUTE FUNCTION minqing_refuse_change()"
                    )

    def session(
        self, db: Database, outage: Outage, *, listen: bool, on_lost: Callable[[], None] | None
    ) -> Session:
        """A connection of its own (outside the pool): LISTEN, advisory locks."""
        return PostgresSession(db, outage, listen=listen, on_lost=on_lost)

    def probe(self, db: Database) -> None:
        """Connect once outside the pool (whose wait for a connection is long) and hang up;
        then drop the pooled connections an outage broke (each checked with an empty
        query), so the work that follows does not fail on them one by one."""
        pool = db.recorder.datastore.pool
        psycopg.connect(pool.conninfo, **connect_kwargs(pool.kwargs)).close()
        pool.check()


POSTGRES = Postgres("postgres")


class PostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, saving through the process's writer
    (adapters/writer.py): concurrent saves are committed together, side rows with events.

    A batch is one transaction and (without reference numbers) one round trip: BEGIN, the
    events table's EXCLUSIVE lock (log positions in commit order), NOTIFY, one INSERT per
    save, the side rows, COMMIT, then a single sync. The side rows go last, after the
    events: a side row that breaks a unique constraint (a concurrent request with the same
    Idempotency-Key) then fails as the IntegrityError it is. Database functions stay off.
    """

    dialect = POSTGRES

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        # Before the library's constructor opens the pool (its idle check is scheduled then).
        pgpool.tune(datastore.pool)
        super().__init__(datastore, **kwargs)
        self.writer = Writer(self._commit_batch)

    def _create_table(self, curs: Any) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        super()._create_table(curs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        """Write the events and `side_rows` (with other saves waiting); their positions."""
        return self.writer.write(Job(stored_events, kwargs.get("side_rows") or ()))

    def _commit_batch(self, jobs: list[Job]) -> None:
        # Errors come out as the library's (IntegrityError …) from get_connection.
        with self.datastore.get_connection() as conn:
            failed: BaseException | None = None
            try:
                with conn.pipeline() as pipeline:
                    try:
                        conn.execute("BEGIN", prepare=False)
                        self._number(conn, pipeline, jobs)
                        writing, inserted = self._queue_writes(conn, [j for j in jobs if j.pending])
                        conn.execute("COMMIT", prepare=False)
                        pipeline.sync()
                        if inserted is not None:
                            ids = iter([r["notification_id"] for r in inserted.fetchall()])
                            for job in writing:
                                job.positions = [next(ids) for _ in job.events]
                    except BaseException as exc:  # raised below, out of the pipeline
                        failed = exc
            except BaseException as exc:  # the pipeline's exit
                failed = failed or exc
            if failed is not None:
                for job in jobs:
                    job.positions = None
                # A broken connection cannot roll back: its error is `failed` already.
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("ROLLBACK")
                raise failed

    def _number(self, conn: Any, pipeline: Any, jobs: list[Job]) -> None:
        """The counters' next numbers for the jobs that need one, taken in the batch's
        transaction (before the table lock, so the lock is never held across this round
        trip); each job then makes its events with its number."""
        wanted: dict[str, list[Job]] = {}
        for job in jobs:
            if job.counter is not None:
                wanted.setdefault(job.counter, []).append(job)
        if not wanted:
            return
        taken = [
            (
                conn.execute(_to_pg(side_tables.TAKE_NUMBERS), (name, len(group)), prepare=False),
                group,
            )
            for name, group in wanted.items()
        ]
        pipeline.sync()
        for cursor, group in taken:
            last = int(cursor.fetchone()["value"])
            for offset, job in enumerate(group):
                job.made(last - len(group) + 1 + offset)

    def _queue_writes(self, conn: Any, jobs: list[Job]) -> tuple[list[Job], Any]:
        """Queue the batch's writes: the events of all jobs in ONE insert (the rows come
        back in the order sent, so each job's positions are its slice), and the side rows,
        those of one INSERT statement in one statement; the jobs that write events and
        the cursor of their insert (None when none does)."""
        writing = [job for job in jobs if job.events]
        for job in jobs:
            if not job.events:
                job.positions = []
        inserted = None
        if writing:
            for statement in self.lock_table_statements:
                conn.execute(statement, prepare=False)
            notify = sql.SQL("NOTIFY {0}").format(sql.Identifier(self.channel_name))
            conn.execute(notify, prepare=False)
            inserted = conn.cursor()
            rows = [row for job in writing for row in self._composite(job)]
            inserted.execute(self.insert_events_statement, (rows,), prepare=False)
        # Nothing in a batch is prepared: psycopg counts a PREPARE queued in a pipeline as
        # done, and when a statement before it fails (a lost race, a lock timeout)
        # PostgreSQL skips it, so the next save on this connection would fail, "prepared
        # statement … does not exist" (the fault drill, docs/performance.md). Unprepared,
        # each statement is parsed and planned: hence one per kind of row, not one per row.
        side = (s for job in jobs for s in side_tables.statements(job.side_rows))
        for statement, params in side_tables.coalesced(side):
            conn.execute(_to_pg(statement), params, prepare=False)
        return writing, inserted

    def _composite(self, job: Job) -> list[Any]:
        return [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in job.events
        ]


class PostgresStore(PostgresFactory):
    """eventsourcing's PostgreSQL infrastructure, with Minqing's side tables (`Storage`)."""

    def ports(self, recorder: Any, master_key: bytes) -> Ports:
        """The SQL ports on the recorder's database, reference numbers taken by the
        recorder's writer in the transaction of the events made with them."""
        ports = side_tables.sql_ports(Database(recorder), master_key)
        return replace(ports, writer=recorder.writer)


@dataclass(frozen=True)
class Pool:
    """One process's pool of PostgreSQL connections: `size` kept open while idle, up to
    `overflow` more opened under load (and closed again once idle: adapters/pgpool.py)."""

    size: int = 2
    overflow: int = 18

    def __post_init__(self) -> None:
        if self.size < 0 or self.overflow < 0 or self.size + self.overflow < 1:
            msg = (
                "MINQING_POSTGRES_POOL_SIZE and MINQING_POSTGRES_MAX_OVERFLOW must not be"
                " negative, and together at least 1"
            )
            raise ValueError(msg)


def env(url: str, pool: Pool | None = None) -> dict[str, str]:
    """The eventsourcing environment for a `postgresql://…` URL, with `pool`'s sizes
    (default: an API process's)."""
    parts = urlsplit(url)
    if not parts.path.strip("/"):
        msg = "MINQING_DATABASE_URL: postgresql URL needs a database name"
        raise ValueError(msg)
    pool = pool or Pool()
    size, overflow = str(pool.size), str(pool.overflow)
    return {
        "PERSISTENCE_MODULE": "adapters.postgres:PostgresStore",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        # eventsourcing reads MINQING_<KEY> before <KEY> (the application's name first),
        # from os.environ too, where our settings of the same names live: set both, so
        # the sizes chosen here are the ones used.
        "POSTGRES_POOL_SIZE": size,
        "MINQING_POSTGRES_POOL_SIZE": size,
        "POSTGRES_MAX_OVERFLOW": overflow,
        "MINQING_POSTGRES_MAX_OVERFLOW": overflow,
        # How long a thread waits for a pooled connection (not a connect timeout).
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "adapters.postgres:PostgresRecorder",
    }


def connect_kwargs(pool_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """psycopg.connect's arguments for a connection beside the recorder's pool."""
    kwargs = {k: v for k, v in pool_kwargs.items() if k != "row_factory"}
    # A host that does not answer at all would hold libpq for the system's TCP timeout.
    kwargs.setdefault("connect_timeout", pgpool.CONNECT_TIMEOUT_SECONDS)
    return kwargs


def probe_env(env: Mapping[str, str]) -> None:
    """Connect once to the database `env` (from `env`) names, and hang up: raises when
    PostgreSQL does not answer."""
    kwargs = connect_kwargs(
        {
            "dbname": env["POSTGRES_DBNAME"],
            "host": env["POSTGRES_HOST"],
            "port": env["POSTGRES_PORT"],
            "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"],
        }
    )
    psycopg.connect(**kwargs).close()


def probe(url: str) -> None:
    """Connect once to the database the URL names, and hang up: raises when PostgreSQL
    does not answer."""
    probe_env(env(url))


class PostgresSession:
    """A dedicated PostgreSQL connection: LISTEN for new events, hold advisory locks.

    The connection is made on first use and again after it fails; `on_lost` is called
    whenever the locks taken so far are gone (the old connection closed), so the owner
    stops believing it leads. Failures are noted on `outage`; while it is down, `wait` and
    `try_lock` do not try to connect (the owner's loop probes with `ping` when it is time).
    """

    def __init__(
        self,
        db: Database,
        outage: Outage,
        *,
        listen: bool = True,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        recorder: Any = db.recorder  # a PostgresApplicationRecorder here
        pool = recorder.datastore.pool
        self._pool = pool
        self._conninfo: str = pool.conninfo
        self._kwargs = connect_kwargs(pool.kwargs)
        self._channel: str = recorder.channel_name
        self._listen = listen
        self._outage = outage
        self._on_lost = on_lost or (lambda: None)
        self._conn: psycopg.Connection[Any] | None = None
        # Set when a connection is made: events committed before its LISTEN sent no
        # notification to it, so the next wait reports that some may have been missed.
        self._fresh = False

    @property
    def listens(self) -> bool:
        """True when this session LISTENs for new events."""
        return self._listen

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._on_lost()  # locks die with the old connection
            conn = psycopg.connect(self._conninfo, autocommit=True, **self._kwargs)
            if self._listen:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._conn = conn
            self._fresh = True
        return self._conn

    def _lost(self) -> None:
        self._on_lost()
        self.close()

    def _usable(self) -> bool:
        # During an outage only the owner's probe (`ping`) connects, at its backoff pace.
        return not self._outage.down or (self._conn is not None and not self._conn.closed)

    def wait(
        self, seconds: float, stop: threading.Event, kick: threading.Event | None = None
    ) -> bool:
        """Wait for a notification up to `seconds`, less if `stop` or `kick` is set."""
        deadline = time.monotonic() + seconds
        step = SLICE_SECONDS if kick is None else KICKED_SLICE_SECONDS
        if not self._usable():
            return True  # the owner's loop waits out the outage (and probes) itself
        try:
            conn = self._connection()
            if self._fresh:
                self._fresh = False
                if self._listen:
                    return True
            # Short slices keep a stop or a kick prompt; a notification ends the wait.
            while not stop.is_set() and not (kick is not None and kick.is_set()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                for _ in conn.notifies(timeout=min(remaining, step), stop_after=1):
                    return True
        except psycopg.Error as exc:
            self._lost()
            self._outage.failed(exc)
            return True  # a notification may have been lost with the connection
        return False

    def try_lock(self, key: int) -> bool:
        """Take the session advisory lock `key` if no other session holds it."""
        if not self._usable():
            return False
        try:
            row = self._connection().execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        except psycopg.Error as exc:
            self._lost()
            self._outage.failed(exc)
            return False
        return bool(row and row[0])

    def ping(self) -> None:
        """Raise unless the server answers on this session, connecting it if needed; then
        drop the pooled connections an outage broke."""
        try:
            self._connection().execute("SELECT 1")
        except psycopg.Error:
            self._lost()
            raise
        self._pool.check()

    def close(self) -> None:
        """Close the connection, which releases every advisory lock it held."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


# -- backups (adapters/store.py: `minqing backup`, `minqing restore`) -----------------------


def _tool(command: list[str], url: str) -> None:
    """Run pg_dump or pg_restore on the database `url` names; the password goes in the
    environment, not on a command line others can read."""
    parts = env(url)
    conninfo = {
        "PGHOST": parts["POSTGRES_HOST"],
        "PGPORT": parts["POSTGRES_PORT"],
        "PGUSER": parts["POSTGRES_USER"],
        "PGDATABASE": parts["POSTGRES_DBNAME"],
    }
    if parts["POSTGRES_PASSWORD"]:
        conninfo["PGPASSWORD"] = parts["POSTGRES_PASSWORD"]
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program, arguments not from a shell
            command, env={**os.environ, **conninfo}, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        msg = f"{command[0]} not found: install PostgreSQL's client programs"
        raise RuntimeError(msg) from None
    if done.returncode:
        msg = f"{command[0]} failed: {done.stderr.strip()[-2000:]}"
        raise RuntimeError(msg)


def backup(url: str, target: Path) -> None:
    """`pg_dump` in its custom format into the new file `target`: a consistent snapshot
    (one transaction) while the service keeps writing."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private, never over
    os.close(fd)
    _tool(["pg_dump", "--format=custom", "--file", str(target)], url)


def restore(source: Path, url: str) -> None:
    """`pg_restore` the custom-format `source` into the empty database `url` names, in one
    transaction (all of it or nothing), owned by the connecting user."""
    with psycopg.connect(**connect_kwargs(_conninfo(url))) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    if row and row[0]:
        msg = "the database is not empty: restore only into an empty database"
        raise ValueError(msg)
    _tool(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            env(url)["POSTGRES_DBNAME"],
            str(source),
        ],
        url,
    )


def _conninfo(url: str) -> dict[str, Any]:
    parts = env(url)
    return {
        "dbname": parts["POSTGRES_DBNAME"],
        "host": parts["POSTGRES_HOST"],
        "port": parts["POSTGRES_PORT"],
        "user": parts["POSTGRES_USER"],
        "password": parts["POSTGRES_PASSWORD"],
    }
