"""SQLite, the embedded store: its dialect, its recorder, its `sqlite:///…` settings.

One file, nothing to install; one process runs the workers (every lock is granted, nothing
listens: they poll). A write transaction takes SQLite's write lock at its first statement,
so whatever else would need a lock queues there.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory

from adapters import side_tables
from adapters.database import Cursor, Database, Dialect, DriverCursor
from application.ports import Ports

if TYPE_CHECKING:
    from adapters.outage import Outage
    from adapters.sessions import Session


class SQLite(Dialect):
    """SQLite's SQL."""

    position_column = "rowid"
    serial_id = "INTEGER PRIMARY KEY AUTOINCREMENT"
    blob = "BLOB"
    shared = False
    renames_indexes = False

    def execute(self, cursor: DriverCursor, sql: str, params: tuple[Any, ...]) -> None:
        """Run one qmark statement (SQLite's own placeholders)."""
        cursor.execute(sql, params)

    def executemany(self, cursor: DriverCursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run one statement per row."""
        cursor.executemany(sql, rows)

    def insert_new(
        self,
        cursor: DriverCursor,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """An INSERT per row: on SQLite as cheap as anything."""
        marks = ", ".join("?" * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
            rows,
        )

    def begin_write(self, cursor: Cursor) -> None:
        """Take the write lock at once (waiting for another writer): a transaction that
        read first would fail when it came to write."""
        cursor.execute("UPDATE minqing_counters SET value = value WHERE 1 = 0")

    def begin_snapshot(self, cursor: Cursor) -> None:
        """Nothing to do: in WAL mode a transaction keeps the snapshot of its first read."""

    def lock(self, cursor: Cursor, key: int) -> None:
        """Nothing to do: the transaction holds the database's write lock already."""

    def originator_id(self, aggregate_id: UUID) -> Any:
        """The recorder stores UUIDs as 32 hex digits."""
        return aggregate_id.hex

    def table_exists_sql(self) -> str:
        """Ask sqlite_master."""
        return "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?"

    def column_exists_sql(self) -> str:
        """Ask pragma_table_info."""
        return "SELECT 1 AS found FROM pragma_table_info(?) WHERE name = ?"

    def add_column(self, cursor: Cursor, table: str, column: str, kind: str) -> None:
        """ALTER TABLE … ADD COLUMN, when the table lacks the column."""
        cursor.execute(self.column_exists_sql(), (table, column))
        if cursor.fetchone() is None:
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def index_renames(self, cursor: Cursor, live: str, fresh: str, indexes: Any) -> list[str]:
        """SQLite cannot rename an index: build each again under the live name."""
        statements = []
        for ix, cols in indexes.items():
            statements.append(f"DROP INDEX IF EXISTS {fresh}__{ix}")
            statements.append(f"CREATE INDEX {live}__{ix} ON {live} {cols}")
        return statements

    def protect(self, cursor: Cursor, tables: Sequence[str]) -> None:
        """No triggers here: the file is the operator's (the audit chain still notices)."""

    def session(
        self, db: Database, outage: Outage, *, listen: bool, on_lost: Callable[[], None] | None
    ) -> Session:
        """Nothing to listen to: a sleeper; one process runs the workers."""
        from adapters.sessions import Sleeper

        return Sleeper()

    def probe(self, db: Database) -> None:
        """An embedded file is always there."""


SQLITE = SQLite("sqlite")


class SQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, also writing side rows in the events' transaction."""

    dialect = SQLITE

    def _insert_events(
        self, c: Any, stored_events: Sequence[Any], **kwargs: Any
    ) -> Sequence[int] | None:
        for sql, params in side_tables.statements(kwargs.get("side_rows")):
            c.execute(sql, params)
        return super()._insert_events(c, stored_events, **kwargs)


class SQLiteStore(SQLiteFactory):
    """eventsourcing's SQLite infrastructure, with Minqing's side tables (`Storage`)."""

    def ports(self, recorder: Any, master_key: bytes) -> Ports:
        """The SQL ports on the recorder's database."""
        return side_tables.sql_ports(Database(recorder), master_key)


def env(url: str, pool: object = None) -> dict[str, str]:
    """The eventsourcing environment for a `sqlite:///…` URL (no pool: one file)."""
    path = unquote(urlsplit(url).path)
    # sqlite:///var/x.db is relative; sqlite:////abs/x.db is absolute.
    path = path[1:] if path.startswith("/") else path
    if not path:
        msg = "MINQING_DATABASE_URL: sqlite URL needs a file path, e.g. sqlite:///var/minqing.db"
        raise ValueError(msg)
    if path != ":memory:":
        _private_database_file(Path(path))
    return {
        "PERSISTENCE_MODULE": "adapters.sqlite:SQLiteStore",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "adapters.sqlite:SQLiteRecorder",
    }


def probe(url: str) -> None:
    """Nothing to ask: an embedded file is always there."""


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


class ScratchDatabase(Database):
    """A private in-memory SQLite database with the `Database` interface (one connection),
    for folding a read model apart from the live one (projections/register_as_of.py)."""

    def __init__(self) -> None:
        # No event store behind it: only the read-model tables folded into it.
        self.recorder = None
        self.dialect = SQLITE
        self.events_table = ""
        self._connection = sqlite3.connect(":memory:", isolation_level=None)
        self._connection.row_factory = sqlite3.Row

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One transaction on the private connection; rolled back if the block raises."""
        cursor = self._connection.cursor()
        cursor.execute("BEGIN")
        try:
            yield Cursor(cursor, SQLITE)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """The first row of a query, or None."""
        return self._connection.execute(sql, params).fetchone()

    def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of a query."""
        return list(self._connection.execute(sql, params).fetchall())

    def close(self) -> None:
        """Free the memory."""
        self._connection.close()


# -- backups (adapters/store.py: `minqing backup`, `minqing restore`) -----------------------


def _path(url: str) -> Path:
    return Path(env(url)["SQLITE_DBNAME"])


def backup(url: str, target: Path) -> None:
    """Copy the live database into the new file `target` with SQLite's online backup API:
    a consistent snapshot while the service keeps writing; checked before it is kept."""
    with contextlib.closing(sqlite3.connect(_path(url))) as live:
        _private_database_file(target)
        with contextlib.closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
            # One self-contained file (the live database's WAL mode came with the pages).
            copy.execute("PRAGMA journal_mode=DELETE")
            _check(copy, target)


def restore(source: Path, url: str) -> None:
    """Copy the backup `source` into the empty database `url` names."""
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup:
        _check(backup, source)
        with contextlib.closing(sqlite3.connect(_path(url))) as live:
            if live.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                msg = f"{_path(url)} is not empty: restore only into an empty database"
                raise ValueError(msg)
            backup.backup(live)


def _check(connection: sqlite3.Connection, path: Path) -> None:
    found = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if found != "ok":
        msg = f"{path}: SQLite's integrity check says {found}"
        raise RuntimeError(msg)
