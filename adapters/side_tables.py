"""The side tables beside the event store, and the SQL ports on them.

Counters, idempotency answers, residents' keys, principals and tokens (adapters/accounts.py),
the access log (adapters/access_log.py) and the web UI's passwords and sessions: made in one
transaction under the schema lock (`create_tables`) whenever a process opens the store, so
processes that start together never race on CREATE TABLE.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from adapters.access_log import SqlAccessLog, ensure_tables
from adapters.accounts import Accounts
from adapters.database import Database
from adapters.keyring import Keyring, SqlKeyVault
from application.ports import (
    IdempotencyRow,
    PhotoRow,
    Ports,
    RequestEventRow,
    ResidentKeyErased,
    ResidentKeyRow,
    SideRow,
    StoredAnswer,
    StoredPhoto,
)

TABLES = (
    "CREATE TABLE IF NOT EXISTS minqing_counters ( name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
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
    # The web UI's (api/ui/passwords.py, api/ui/sessions.py).
    "CREATE TABLE IF NOT EXISTS minqing_ui_passwords ("
    " principal_id TEXT PRIMARY KEY REFERENCES minqing_principals(id),"
    " hash TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS minqing_ui_signin_failures (name TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS minqing_ui_signin_failures__name"
    " ON minqing_ui_signin_failures (name, at)",
    "CREATE TABLE IF NOT EXISTS minqing_ui_sessions ("
    " id_hash TEXT PRIMARY KEY, principal_id TEXT NOT NULL, csrf TEXT NOT NULL,"
    " created_at TEXT NOT NULL, expires_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS minqing_ui_sessions__principal"
    " ON minqing_ui_sessions (principal_id)",
    # The request (X-Request-ID) that recorded each event, written with it.
    "CREATE TABLE IF NOT EXISTS minqing_request_events ("
    " aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, request_id TEXT NOT NULL,"
    " PRIMARY KEY (aggregate_id, version))",
    "CREATE INDEX IF NOT EXISTS minqing_request_events__request"
    " ON minqing_request_events (request_id)",
)
# Photos' bytes by SHA-256 digest, in the database so one backup holds everything; {blob} is
# the dialect's type for bytes. Erasing a resident empties the bytes of the photos that show
# them (`resident_ref`); the row, and the digest in the log, stay.
PHOTO_TABLE = (
    "CREATE TABLE IF NOT EXISTS minqing_photos ("
    " digest TEXT PRIMARY KEY, content_type TEXT NOT NULL, data {blob}, thumb {blob},"
    " resident_ref TEXT, created_at TEXT NOT NULL, erased_at TEXT)"
)
PHOTO_INDEX = "CREATE INDEX IF NOT EXISTS minqing_photos__resident ON minqing_photos (resident_ref)"
# Columns added after their table was first made: (table, column, type).
ADDED_COLUMNS = (
    # Failures recorded before it have no address (they count for the name only).
    ("minqing_ui_signin_failures", "address", "TEXT"),
)


def statement(row: SideRow) -> tuple[str, tuple[Any, ...]]:
    """The SQL (qmark placeholders) that writes one side row in the events' transaction."""
    if isinstance(row, IdempotencyRow):
        return (
            "INSERT INTO minqing_idempotency"
            " (principal_id, key, fingerprint, body, aggregate_id, version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                row.principal_id,
                row.key,
                row.fingerprint,
                row.body,
                row.aggregate_id,
                row.version,
                row.created_at,
            ),
        )
    if isinstance(row, ResidentKeyRow):
        return (
            "INSERT INTO minqing_resident_keys (resident_ref, wrapped_key, created_at)"
            " VALUES (?, ?, ?)",
            (row.resident_ref, row.wrapped_key, row.created_at),
        )
    if isinstance(row, RequestEventRow):
        return (
            "INSERT INTO minqing_request_events (aggregate_id, version, request_id)"
            " VALUES (?, ?, ?)",
            (row.aggregate_id, row.version, row.request_id),
        )
    if isinstance(row, PhotoRow):
        # The same bytes again are the same photo: kept once; bytes erased before come back
        # only with a new upload of them.
        return (
            "INSERT INTO minqing_photos"
            " (digest, content_type, data, thumb, resident_ref, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO UPDATE SET"
            " data = excluded.data, thumb = excluded.thumb,"
            " resident_ref = excluded.resident_ref, erased_at = NULL"
            " WHERE minqing_photos.erased_at IS NOT NULL",
            (
                row.digest,
                row.content_type,
                row.data,
                row.thumb,
                row.resident_ref,
                row.created_at,
            ),
        )
    return (
        "UPDATE minqing_resident_keys SET wrapped_key = NULL, erased_at = ? WHERE resident_ref = ?",
        (row.erased_at, row.resident_ref),
    )


def statements(rows: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements of a save's `side_rows` (none when the save has none); erasing a
    resident's key also erases the bytes of the photos that show them."""
    found = []
    for row in rows or ():
        found.append(statement(row))
        if isinstance(row, ResidentKeyErased):
            found.append(
                (
                    "UPDATE minqing_photos SET data = NULL, thumb = NULL, erased_at = ?"
                    " WHERE resident_ref = ? AND erased_at IS NULL",
                    (row.erased_at, row.resident_ref),
                )
            )
    return found


def coalesced(
    statements: Iterable[tuple[str, tuple[Any, ...]]],
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """`statements` with each run of plain `INSERT … VALUES (?, …)` rows (no ON CONFLICT,
    nothing after the values) merged into one multi-row INSERT per statement; any other
    statement keeps its place, the rows inserted before it written before it."""
    runs: dict[str, list[tuple[Any, ...]]] = {}

    def flush() -> Iterator[tuple[str, tuple[Any, ...]]]:
        for text, rows in runs.items():
            head, values = text.rsplit(" VALUES ", 1)
            # Far below PostgreSQL's 65,535 parameters a statement.
            for start in range(0, len(rows), COALESCED_ROWS):
                chunk = rows[start : start + COALESCED_ROWS]
                yield (
                    f"{head} VALUES {', '.join([values] * len(chunk))}",
                    tuple(v for row in chunk for v in row),
                )
        runs.clear()

    for text, params in statements:
        if _PLAIN_INSERT.fullmatch(text):
            runs.setdefault(text, []).append(params)
        else:
            yield from flush()
            yield text, params
    yield from flush()


COALESCED_ROWS = 1000
# `INSERT INTO t (a, b) VALUES (?, ?)` and nothing else: rows that may share one statement.
_PLAIN_INSERT = re.compile(r"INSERT INTO \w+ \([\w, ]+\) VALUES \((\?, )*\?\)")


# Take `?` numbers of the counter named `?` at once; the last one taken comes back.
TAKE_NUMBERS = (
    "INSERT INTO minqing_counters (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = minqing_counters.value + EXCLUDED.value"
    " RETURNING value"
)


class SqlCounters:
    """Named counters in `minqing_counters` (the `Counters` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def next(self, name: str) -> int:
        """Take the next number of a named counter; a number taken is never given again."""
        with self._db.transaction() as cur:
            cur.execute(TAKE_NUMBERS, (name, 1))
            row = cur.fetchone()
        return int(row["value"])


class SqlIdempotency:
    """The answers kept in `minqing_idempotency` (the `IdempotencyStore` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, principal_id: str, key: str) -> StoredAnswer | None:
        """The answer kept for this caller's key, if any."""
        row = self._db.fetchone(
            "SELECT fingerprint, body, aggregate_id, version FROM minqing_idempotency"
            " WHERE principal_id = ? AND key = ?",
            (principal_id, key),
        )
        if row is None:
            return None
        return StoredAnswer(
            str(row["fingerprint"]),
            json.loads(row["body"]),
            str(row["aggregate_id"]),
            int(row["version"]),
        )


class SqlPhotos:
    """The photos' bytes in `minqing_photos` (the `Photos` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, digest: str) -> StoredPhoto | None:
        """The photo kept under `digest`, if any."""
        row = self._db.fetchone(
            "SELECT digest, content_type, data, thumb, erased_at FROM minqing_photos"
            " WHERE digest = ?",
            (digest,),
        )
        if row is None:
            return None
        return StoredPhoto(
            str(row["digest"]),
            str(row["content_type"]),
            None if row["data"] is None else bytes(row["data"]),
            None if row["thumb"] is None else bytes(row["thumb"]),
            row["erased_at"],
        )


def create_tables(db: Database) -> None:
    """Create the side tables (the event store creates its own), under the schema lock."""
    photos = (PHOTO_TABLE.format(blob=db.dialect.blob), PHOTO_INDEX)
    db.create((*TABLES, *photos), ADDED_COLUMNS)


def sql_ports(db: Database, master_key: bytes) -> Ports:
    """The SQL ports on `db`, their tables made if missing."""
    create_tables(db)
    ensure_tables(db)
    return Ports(
        counters=SqlCounters(db),
        idempotency=SqlIdempotency(db),
        positions=db,
        keyring=Keyring(master_key, SqlKeyVault(db)),
        accounts=Accounts(db),
        access_log=SqlAccessLog(db),
        photos=SqlPhotos(db),
        sql=db,
    )
