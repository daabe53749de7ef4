"""Persistence: the event store settings, the side tables, and the two SQL dialects in one place."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain import pgpool

Dialect = Literal["sqlite", "postgres"]

# Taken (per transaction) by whatever creates tables when a process starts: PostgreSQL's
# CREATE … IF NOT EXISTS fails when another session creates the same object at the same
# moment, and workers that waited for the database all start at once when it answers.
SCHEMA_LOCK = 0x6D71_736D  # "mqsm"


@dataclass(frozen=True)
class Pool:
    """One process's pool of PostgreSQL connections: `size` kept open while idle, up to
    `overflow` more opened under load (and closed again once idle: domain/pgpool.py)."""

    size: int = 2
    overflow: int = 18

    def __post_init__(self) -> None:
        if self.size < 0 or self.overflow < 0 or self.size + self.overflow < 1:
            msg = (
                "MINQING_POSTGRES_POOL_SIZE and MINQING_POSTGRES_MAX_OVERFLOW must not be"
                " negative, and together at least 1"
            )
            raise ValueError(msg)


@dataclass(frozen=True)
class SideWrite:
    """A row written in the same transaction as the events it belongs to."""

    sql: str
    params: tuple[Any, ...]


def event_store_env(database_url: str, pool: Pool | None = None) -> dict[str, str]:
    """The eventsourcing environment for a `sqlite:///…` or `postgresql://…` URL; on
    PostgreSQL with `pool`'s sizes (default: an API process's)."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///var/x.db is relative; sqlite:////abs/x.db is absolute.
        path = path[1:] if path.startswith("/") else path
        if not path:
            msg = (
                "MINQING_DATABASE_URL: sqlite URL needs a file path, e.g. sqlite:///var/minqing.db"
            )
            raise ValueError(msg)
        if path != ":memory:":
            _private_database_file(Path(path))
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": "domain.store:SQLiteRecorder",
        }
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.path.strip("/"):
            msg = "MINQING_DATABASE_URL: postgresql URL needs a database name"
            raise ValueError(msg)
        pool = pool or Pool()
        size, overflow = str(pool.size), str(pool.overflow)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
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
            "APPLICATION_RECORDER_TOPIC": "domain.store:PostgresRecorder",
        }
    msg = f"MINQING_DATABASE_URL: unsupported scheme {parts.scheme!r} (use sqlite or postgresql)"
    raise ValueError(msg)


def _private_database_file(path: Path) -> None:
    """Make the database's directory (mode 700) and its empty file (mode 600) if missing:
    it holds residents' wrapped keys as the key files do. SQLite gives the -wal and -shm
    files it makes the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class _Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...
    def executemany(self, sql: Any, params_seq: Any, /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


class SQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, also writing side rows in the events' transaction."""

    def _insert_events(
        self, c: Any, stored_events: Sequence[Any], **kwargs: Any
    ) -> Sequence[int] | None:
        for w in kwargs.get("side_writes", ()):
            c.execute(w.sql, w.params)
        return super()._insert_events(c, stored_events, **kwargs)


class PostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder (default insert path), also writing side rows.

    The side rows go in after the events, under the events table's lock, as the last
    statements of the library's pipeline: a side row that breaks a unique constraint (a
    concurrent request with the same Idempotency-Key) then fails as the IntegrityError it
    is. Written before the lock, its failure could leave later statements of the pipeline
    aborted, and the pipeline's exit would raise "pipeline aborted" in its place.
    """

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        # Before the library's constructor opens the pool (its idle check is scheduled then).
        pgpool.tune(datastore.pool)
        super().__init__(datastore, **kwargs)

    def _create_table(self, curs: Any) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        super()._create_table(curs)

    def _insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> None:
        if not stored_events:  # the library inserts no events, so nothing follows
            _write_sides(curs, kwargs)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> None:
        super()._insert_stored_events(curs, stored_events, **kwargs)
        # A cursor of its own: the library reads the new positions from `curs` next.
        with curs.connection.cursor() as side:
            _write_sides(side, kwargs)


def _write_sides(curs: Any, kwargs: dict[str, Any]) -> None:
    for w in kwargs.get("side_writes", ()):
        # Never prepared: psycopg counts a PREPARE queued in a pipeline as done, and when the
        # events' INSERT before it loses a race PostgreSQL skips it, so the next save on this
        # connection would fail, "prepared statement … does not exist" (the fault drill).
        curs.execute(_to_pg(w.sql), w.params, prepare=False)


def _to_pg(sql: str) -> str:
    # Side-table SQL is written once with qmark placeholders; psycopg wants %s.
    return sql.replace("%", "%%").replace("?", "%s")


_SIDE_TABLES: Mapping[str, Sequence[str]] = {
    "common": (
        "CREATE TABLE IF NOT EXISTS minqing_counters ("
        " name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS minqing_idempotency ("
        " principal_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,"
        " body TEXT NOT NULL, aggregate_id TEXT NOT NULL, version BIGINT NOT NULL,"
        " created_at TEXT NOT NULL, PRIMARY KEY (principal_id, key))",
        "CREATE TABLE IF NOT EXISTS minqing_resident_keys ("
        " resident_ref TEXT PRIMARY KEY, wrapped_key TEXT, created_at TEXT NOT NULL,"
        " erased_at TEXT)",
        "CREATE TABLE IF NOT EXISTS minqing_principals ("
        " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, roles TEXT NOT NULL,"
        " grids TEXT NOT NULL, member_id TEXT, created_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS minqing_tokens ("
        " id TEXT PRIMARY KEY, principal_id TEXT NOT NULL REFERENCES minqing_principals(id),"
        " token_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at TEXT NOT NULL,"
        " revoked_at TEXT)",
    ),
}


class Database:
    """Plain SQL on the event store's own connections; hides the dialect's placeholders."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.dialect: Dialect = "postgres" if isinstance(recorder, PostgresRecorder) else "sqlite"
        self.events_table = recorder.events_table_name

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One committed transaction; rolled back if the block raises."""
        with self.recorder.datastore.transaction(commit=True) as c:
            cursor = Cursor(c, self.dialect)
            if self.dialect == "sqlite":
                # A write first takes SQLite's write lock at once (waiting for another
                # writer); a transaction that read first would fail when it came to write.
                cursor.execute("UPDATE minqing_counters SET value = value WHERE 1 = 0")
            yield cursor

    @contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        """One read-only transaction whose statements all see the same moment.

        PostgreSQL's default isolation takes a new snapshot per statement; SQLite (WAL) keeps
        the one its first read took until the transaction ends.
        """
        with self.recorder.datastore.transaction(commit=False) as c:
            cursor = Cursor(c, self.dialect)
            if self.dialect == "postgres":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield cursor

    def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """The first row of a query, or None."""
        with self.recorder.datastore.transaction(commit=False) as c:
            cur = Cursor(c, self.dialect)
            cur.execute(sql, params)
            return cur.fetchone()

    def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of a query."""
        with self.recorder.datastore.transaction(commit=False) as c:
            cur = Cursor(c, self.dialect)
            cur.execute(sql, params)
            return list(cur.fetchall())

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement in its own transaction."""
        with self.transaction() as cur:
            cur.execute(sql, params)

    def create_tables(self) -> None:
        """Create the side tables (the event store creates its own)."""
        # Not self.transaction(): on SQLite that writes to minqing_counters, made here.
        with self.recorder.datastore.transaction(commit=True) as c:
            cur = Cursor(c, self.dialect)
            cur.lock_schema()
            for statement in _SIDE_TABLES["common"]:
                cur.execute(statement)

    def position_of(self, aggregate_id: str, version: int) -> int | None:
        """The log position of one stored event."""
        column = "notification_id" if self.dialect == "postgres" else "rowid"
        row = self.fetchone(
            f"SELECT {column} AS position FROM {self.events_table}"  # noqa: S608
            " WHERE originator_id = ? AND originator_version = ?",
            (_originator(aggregate_id, self.dialect), version),
        )
        return int(row["position"]) if row else None

    def next_counter(self, name: str) -> int:
        """Take the next number of a named counter; a number taken is never given again."""
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO minqing_counters (name, value) VALUES (?, 1)"
                " ON CONFLICT (name) DO UPDATE SET value = minqing_counters.value + 1"
                " RETURNING value",
                (name,),
            )
            row = cur.fetchone()
        return int(row["value"])


def _originator(aggregate_id: str, dialect: Dialect) -> str:
    # The SQLite recorder stores UUIDs as 32 hex digits, PostgreSQL as uuid.
    return aggregate_id.replace("-", "") if dialect == "sqlite" else aggregate_id


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


class Cursor:
    """A cursor that takes qmark SQL on either dialect (and, on PostgreSQL, never sends it a
    NUL in text: `storable`)."""

    def __init__(self, cursor: _Cursor, dialect: Dialect) -> None:
        self._cursor = cursor
        self._dialect = dialect

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement."""
        if self._dialect == "postgres":
            self._cursor.execute(_to_pg(sql), storable(params))
        else:
            self._cursor.execute(sql, params)

    def lock_schema(self) -> None:
        """Wait for any other process creating tables (PostgreSQL; SQLite's write lock
        already serialises them), until this transaction ends."""
        if self._dialect == "postgres":
            self.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))

    def executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run one statement for each row of parameters (psycopg pipelines them)."""
        if not rows:
            return
        if self._dialect == "postgres":
            self._cursor.executemany(_to_pg(sql), [storable(row) for row in rows])
        else:
            self._cursor.executemany(sql, rows)

    def insert_new(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert rows that are not in `table` yet: PostgreSQL's COPY (a sixth of the
        client's work per row of an INSERT, and one round trip), an INSERT per row on SQLite
        (where that is as cheap)."""
        if not rows:
            return
        names = ", ".join(columns)
        if self._dialect == "postgres":
            cursor: Any = self._cursor
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(storable(row))
        else:
            marks = ", ".join("?" * len(columns))
            self._cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608

    def fetchone(self) -> Any:
        """The next row, or None."""
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        """The remaining rows."""
        return list(self._cursor.fetchall())
