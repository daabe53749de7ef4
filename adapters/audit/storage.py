"""The audit chain's storage: its tables (append-only on PostgreSQL), reading the stored
events and the recorded links, extending the chain, recording checkpoints, and verifying
the database (the arithmetic: domain/audit_chain.py)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import IntegrityError, OperationalError

from adapters import access_log
from adapters.audit.signing import Checkpoint, sign
from adapters.availability import unavailable
from adapters.database import Database
from domain.audit_chain import (
    GENESIS,
    ChainRow,
    Head,
    LogEntry,
    Marks,
    Report,
    event_digest,
    next_link,
    walk,
)

BATCH = 1000
CHAIN_TABLE = "minqing_audit_chain"
CHECKPOINTS_TABLE = "minqing_audit_checkpoints"
_RETRIES = 20
# Any constant will do: it only has to be the same in every process that extends the chain.
_CHAIN_LOCK = 0x6D71_6368  # "mqch"

_TABLES = (
    f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
    " position BIGINT PRIMARY KEY, originator_id TEXT NOT NULL,"
    " originator_version BIGINT NOT NULL, link TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS_TABLE} ("
    " position BIGINT NOT NULL, link TEXT NOT NULL, signed_at TEXT NOT NULL,"
    " signature TEXT NOT NULL, public_key TEXT NOT NULL, PRIMARY KEY (position, signed_at))",
)
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def ensure_tables(db: Database) -> None:
    """Create the chain and checkpoint tables if missing (once per Database object)."""
    if db in _ready:
        return
    with db.transaction() as cur:
        cur.lock_schema()
        for statement in _TABLES:
            cur.execute(statement)
    _ready.add(db)


def install_guards(db: Database) -> None:
    """Create the audit and access-log tables; on PostgreSQL make the event log append-only.

    Triggers refuse UPDATE, DELETE and TRUNCATE on the events table and on the audit tables
    (chain, checkpoints, access log). Idempotent, and safe when several processes start at
    once. Erasure does not need them lifted: it changes the key table, not the log.
    """
    ensure_tables(db)
    access_log.ensure_tables(db)
    tables = [db.events_table, CHAIN_TABLE, CHECKPOINTS_TABLE, access_log.TABLE]
    with db.transaction() as cur:
        db.dialect.protect(cur, tables)


def _position_column(db: Database) -> str:
    return db.dialect.position_column


def _entry(row: Any) -> LogEntry:
    ident = row["originator_id"]
    # PostgreSQL hands back a uuid; SQLite the text it stored, hashed exactly as stored.
    text = ident.hex if isinstance(ident, UUID) else str(ident)
    return LogEntry(
        position=int(row["position"]),
        originator_id=text,
        version=int(row["originator_version"]),
        topic=str(row["topic"]),
        state=bytes(row["state"]),
    )


def read_events(
    db: Database, after: int, upto: int | None = None, batch: int = BATCH
) -> Iterator[LogEntry]:
    """The stored events after position `after` (up to `upto`), in log order."""
    column = _position_column(db)
    bound = f" AND {column} <= ?" if upto is not None else ""
    sql = (
        f"SELECT {column} AS position, originator_id, originator_version, topic, state"  # noqa: S608
        f" FROM {db.events_table} WHERE {column} > ?{bound} ORDER BY {column} LIMIT ?"
    )
    last = after
    while True:
        params = (last, upto, batch) if upto is not None else (last, batch)
        rows = db.fetchall(sql, params)
        yield from (_entry(r) for r in rows)
        if len(rows) < batch:
            return
        last = int(rows[-1]["position"])


def read_chain(
    db: Database, after: int, upto: int | None = None, batch: int = BATCH
) -> Iterator[ChainRow]:
    """The recorded links after position `after` (up to `upto`), in log order."""
    ensure_tables(db)
    bound = " AND position <= ?" if upto is not None else ""
    sql = (
        "SELECT position, originator_id, originator_version, link"  # noqa: S608
        f" FROM {CHAIN_TABLE} WHERE position > ?{bound} ORDER BY position LIMIT ?"
    )
    last = after
    while True:
        params = (last, upto, batch) if upto is not None else (last, batch)
        rows = db.fetchall(sql, params)
        for r in rows:
            yield ChainRow(
                int(r["position"]), str(r["originator_id"]), int(r["originator_version"]), r["link"]
            )
        if len(rows) < batch:
            return
        last = int(rows[-1]["position"])


def chain_head(db: Database) -> Head:
    """The last recorded link of the chain."""
    ensure_tables(db)
    row = db.fetchone(
        f"SELECT position, link FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"  # noqa: S608
    )
    return Head(int(row["position"]), row["link"]) if row else Head(0, GENESIS.hex())


def link_before(db: Database, position: int) -> tuple[int, bytes]:
    """The last recorded link strictly before `position`: (its position, the link)."""
    ensure_tables(db)
    row = db.fetchone(
        f"SELECT position, link FROM {CHAIN_TABLE} WHERE position < ?"  # noqa: S608
        " ORDER BY position DESC LIMIT 1",
        (position,),
    )
    return (int(row["position"]), bytes.fromhex(row["link"])) if row else (0, GENESIS)


def extend_chain(db: Database, batch: int = BATCH) -> int:
    """Chain every stored event after the chain's head, one transaction per batch.

    Returns how many events were chained. Idempotent; concurrent callers queue on a lock
    (an advisory lock on PostgreSQL, the write lock on SQLite) and a caller that still loses
    a race retries, so no position is chained twice or skipped.
    """
    ensure_tables(db)
    total = 0
    failures = 0
    while True:
        try:
            done = _extend_once(db, batch)
        except (IntegrityError, OperationalError) as exc:
            # Another process chained the same positions first, or held the write lock too
            # long: read the new head and carry on from there. Not when the database is
            # unavailable: that is the caller's to wait out (each try here waits for the pool).
            failures += 1
            if failures > _RETRIES or unavailable(exc):
                raise
            continue
        if done == 0:
            return total
        total += done


def _extend_once(db: Database, batch: int) -> int:
    column = _position_column(db)
    with db.transaction() as cur:
        # Two extenders queue here instead of both reading the same head (on SQLite the
        # transaction's write lock already does it).
        cur.lock(_CHAIN_LOCK)
        cur.execute(
            f"SELECT position, link FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"  # noqa: S608
        )
        row = cur.fetchone()
        after, link = (int(row["position"]), bytes.fromhex(row["link"])) if row else (0, GENESIS)
        cur.execute(
            f"SELECT {column} AS position, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {db.events_table} WHERE {column} > ? ORDER BY {column} LIMIT ?",
            (after, batch),
        )
        entries = [_entry(r) for r in cur.fetchall()]
        rows: list[tuple[int, str, int, str]] = []
        for e in entries:
            link = next_link(link, event_digest(e))
            rows.append((e.position, e.originator_id, e.version, link.hex()))
        # Several rows per INSERT: one round trip per row made PostgreSQL the bottleneck.
        # 200 rows stay under SQLite's oldest limit of 999 parameters.
        for i in range(0, len(rows), 200):
            chunk = rows[i : i + 200]
            cur.execute(
                f"INSERT INTO {CHAIN_TABLE}"  # noqa: S608
                " (position, originator_id, originator_version, link) VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(chunk)),
                tuple(v for row in chunk for v in row),
            )
    return len(entries)


def make_checkpoint(
    db: Database, key: Ed25519PrivateKey, now: datetime | None = None
) -> Checkpoint:
    """Extend the chain, then sign and record its head."""
    extend_chain(db)
    head = chain_head(db)
    cp = sign(key, head.position, head.link, now or datetime.now(UTC))
    db.execute(
        f"INSERT INTO {CHECKPOINTS_TABLE}"  # noqa: S608
        " (position, link, signed_at, signature, public_key) VALUES (?, ?, ?, ?, ?)",
        (cp.position, cp.link, cp.signed_at, cp.signature, cp.public_key),
    )
    return cp


def checkpoints(db: Database) -> list[Checkpoint]:
    """Every checkpoint, oldest first."""
    ensure_tables(db)
    rows = db.fetchall(
        "SELECT position, link, signed_at, signature, public_key"  # noqa: S608
        f" FROM {CHECKPOINTS_TABLE} ORDER BY position, signed_at"
    )
    return [
        Checkpoint(int(r["position"]), r["link"], r["signed_at"], r["signature"], r["public_key"])
        for r in rows
    ]


def verify(db: Database, trusted_public_key: str | None = None) -> Report:
    """Extend the chain, then recompute it from the stored events and compare it with the
    recorded links and the signed checkpoints; report the first event that differs."""
    extend_chain(db)
    head = chain_head(db)
    report = Report(head=head)
    marks = Marks(checkpoints(db), trusted_public_key)
    report.first_problem = walk(
        read_events(db, 0, head.position), read_chain(db, 0, head.position), marks, report
    )
    report.checkpoints_checked = marks.checked
    return report
