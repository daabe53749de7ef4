"""Plain SQL on the event store's own connections, the same on SQLite and PostgreSQL.

Everyone writes SQL once, with qmark (`?`) placeholders, through a `Database` or a `Cursor`,
and asks the `Dialect` for whatever differs between the two stores (the position column,
the form of an originator id, locks, COPY, the catalogue, triggers, sessions). The two
dialects are adapters/sqlite.py and adapters/postgres.py: the only modules with SQL of one
store only (tests/unit/test_layers.py checks that).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from adapters.outage import Outage
    from adapters.sessions import Session

# Taken (per transaction) by whatever creates tables when a process starts: PostgreSQL's
# CREATE … IF NOT EXISTS fails when another session creates the same object at the same
# moment, and workers that waited for the database all start at once when it answers.
SCHEMA_LOCK = 0x6D71_736D  # "mqsm"


class DriverCursor(Protocol):
    """What a driver's cursor offers (sqlite3's, psycopg's)."""

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...
    def executemany(self, sql: Any, params_seq: Any, /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


class Dialect(str):
    """One store's SQL: its name (the string itself, as the CLI and /readyz show it) and
    everything that differs from the other store's."""

    # The events table's column that holds a stored event's log position.
    position_column: str
    # A column type for an ever-growing integer id (the access log's paging).
    serial_id: str
    # A column type for bytes (photos: adapters/side_tables.py).
    blob: str
    # True when processes can hold advisory locks and LISTEN for new events; else one
    # process runs the workers and polls.
    shared: bool
    # True when an index can be renamed (a rebuild builds them before the swap).
    renames_indexes: bool

    @abstractmethod
    def execute(self, cursor: DriverCursor, sql: str, params: tuple[Any, ...]) -> None:
        """Run one qmark statement on a driver cursor."""

    @abstractmethod
    def executemany(self, cursor: DriverCursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run one qmark statement for each row of parameters."""

    @abstractmethod
    def insert_new(
        self,
        cursor: DriverCursor,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """Insert rows that are not in `table` yet, the fastest way the store has."""

    @abstractmethod
    def begin_write(self, cursor: Cursor) -> None:
        """Start a transaction that will write (SQLite takes its write lock at once)."""

    def begin_bulk(self, cursor: Cursor) -> None:
        """Make this transaction a bulk load that a crash may lose (a rebuild's fresh
        tables: a rebuild cut short starts again): its COMMIT need not wait for the disk."""

    @abstractmethod
    def begin_snapshot(self, cursor: Cursor) -> None:
        """Start a read-only transaction whose statements all see one moment."""

    @abstractmethod
    def lock(self, cursor: Cursor, key: int) -> None:
        """Hold lock `key` until the transaction ends (SQLite's write lock already does)."""

    @abstractmethod
    def originator_id(self, aggregate_id: UUID) -> Any:
        """An aggregate id as the events table stores it."""

    @abstractmethod
    def table_exists_sql(self) -> str:
        """A query that finds a row when table ? exists."""

    @abstractmethod
    def column_exists_sql(self) -> str:
        """A query that finds a row when table ? has a column named ?."""

    @abstractmethod
    def add_column(self, cursor: Cursor, table: str, column: str, kind: str) -> None:
        """Add a column to a table made by an older version, if it lacks it."""

    @abstractmethod
    def index_renames(self, cursor: Cursor, live: str, fresh: str, indexes: Any) -> list[str]:
        """The statements that give a rebuilt table's indexes their live names."""

    @abstractmethod
    def protect(self, cursor: Cursor, tables: Sequence[str]) -> None:
        """Make `tables` append-only (refuse UPDATE, DELETE, TRUNCATE), if the store can."""

    @abstractmethod
    def session(
        self, db: Database, outage: Outage, *, listen: bool, on_lost: Callable[[], None] | None
    ) -> Session:
        """A worker's own session: wakes on new events, holds leader locks."""

    @abstractmethod
    def probe(self, db: Database) -> None:
        """Raise unless the database answers a fresh connection (outside the pool)."""


class Database:
    """Plain SQL on the event store's own connections; hides the dialect's placeholders."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.dialect: Dialect = recorder.dialect
        self.events_table = recorder.events_table_name

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One committed transaction; rolled back if the block raises."""
        with self.recorder.datastore.transaction(commit=True) as c:
            cursor = Cursor(c, self.dialect)
            self.dialect.begin_write(cursor)
            yield cursor

    @contextmanager
    def bulk_transaction(self) -> Iterator[Cursor]:
        """A committed transaction of a bulk load (`Dialect.begin_bulk`)."""
        with self.transaction() as cursor:
            self.dialect.begin_bulk(cursor)
            yield cursor

    @contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        """One read-only transaction whose statements all see the same moment."""
        with self.recorder.datastore.transaction(commit=False) as c:
            cursor = Cursor(c, self.dialect)
            self.dialect.begin_snapshot(cursor)
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

    def create(self, statements: Sequence[str], added: Sequence[tuple[str, str, str]] = ()) -> None:
        """Create tables (and add columns: table, column, type) if missing, in one
        transaction under the schema lock."""
        # Not self.transaction(): on SQLite that writes to a table made here.
        with self.recorder.datastore.transaction(commit=True) as c:
            cur = Cursor(c, self.dialect)
            cur.lock_schema()
            for statement in statements:
                cur.execute(statement)
            for table, column, kind in added:
                self.dialect.add_column(cur, table, column, kind)

    def table_exists(self, name: str) -> bool:
        """True when the database has a table called `name`."""
        return self.fetchone(self.dialect.table_exists_sql(), (name,)) is not None

    def position_of(self, aggregate_id: str, version: int) -> int | None:
        """The log position of one stored event."""
        column = self.dialect.position_column
        row = self.fetchone(
            f"SELECT {column} AS position FROM {self.events_table}"  # noqa: S608
            " WHERE originator_id = ? AND originator_version = ?",
            (self.dialect.originator_id(UUID(aggregate_id)), version),
        )
        return int(row["position"]) if row else None

    def head(self, cur: Cursor) -> int:
        """The highest log position, read in `cur`'s transaction (0 when empty)."""
        column = self.dialect.position_column
        cur.execute(f"SELECT MAX({column}) AS head FROM {self.events_table}")  # noqa: S608
        row = cur.fetchone()
        return int(row["head"]) if row and row["head"] is not None else 0


class Cursor:
    """A cursor that takes qmark SQL on either dialect."""

    def __init__(self, cursor: DriverCursor, dialect: Dialect) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement."""
        self.dialect.execute(self._cursor, sql, params)

    def lock_schema(self) -> None:
        """Wait for any other process creating tables, until this transaction ends."""
        self.dialect.lock(self, SCHEMA_LOCK)

    def lock(self, key: int) -> None:
        """Hold lock `key` until this transaction ends (processes that share it queue)."""
        self.dialect.lock(self, key)

    def executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run one statement for each row of parameters (psycopg pipelines them)."""
        if rows:
            self.dialect.executemany(self._cursor, sql, rows)

    def insert_new(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert rows that are not in `table` yet (PostgreSQL: COPY, a sixth of the
        client's work per row of an INSERT, and one round trip)."""
        if rows:
            self.dialect.insert_new(self._cursor, table, columns, rows)

    def fetchone(self) -> Any:
        """The next row, or None."""
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        """The remaining rows."""
        return list(self._cursor.fetchall())
