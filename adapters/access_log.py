"""The access log's table: every read of a resident's personal data, who read it, when and
why (who may read and when it is logged: application/disclosure.py).

The log holds no personal data itself: only the resident's pseudonym. Each entry names the
grid of what was read, so a supervisor limited to some grids reads only theirs; a visit's
household is logged like a resident's data (`subject` "visit").
"""

from __future__ import annotations

import base64
import weakref
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from adapters.database import Database
from application.ports import Access
from domain.errors import Invalid

TABLE = "minqing_access_log"
PAGE_MAX = 200
_ready: weakref.WeakSet[Database] = weakref.WeakSet()
# Columns added after the table was first made: (name, type).
_ADDED = (("grid", "TEXT"), ("subject", "TEXT"))


def ensure_tables(db: Database) -> None:
    """Create the access-log table if missing (once per Database object)."""
    if db in _ready:
        return
    with db.transaction() as cur:
        cur.lock_schema()
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            f" id {db.dialect.serial_id}, at TEXT NOT NULL, principal_id TEXT NOT NULL,"
            " principal_name TEXT NOT NULL, roles TEXT NOT NULL, basis TEXT NOT NULL,"
            " reason TEXT, resident_ref TEXT NOT NULL, concern_id TEXT NOT NULL,"
            " concern_reference TEXT, concern_version BIGINT NOT NULL)"
        )
        cur.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}__resident ON {TABLE} (resident_ref, id)")
        _add_columns(db, cur)
    _ready.add(db)


def _add_columns(db: Database, cur: Any) -> None:
    """Add the columns a table made by an older version lacks (grid, subject)."""
    for name, kind in _ADDED:
        db.dialect.add_column(cur, TABLE, name, kind)


class SqlAccessLog:
    """The access log on `db` (the `AccessLog` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, access: Access, at: datetime | None = None) -> None:
        """Write one access; raises if it cannot be written (then the data must not be shown)."""
        db = self._db
        ensure_tables(db)
        db.execute(
            f"INSERT INTO {TABLE} (at, principal_id, principal_name, roles, basis, reason,"  # noqa: S608
            " resident_ref, concern_id, concern_reference, concern_version, grid, subject)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (at or datetime.now(UTC)).astimezone(UTC).isoformat(),
                access.principal.id,
                access.principal.name,
                ",".join(sorted(r.value for r in access.principal.roles)),
                access.basis,
                access.reason,
                access.resident_ref,
                access.concern_id,
                access.concern_reference,
                access.concern_version,
                access.grid,
                access.subject,
            ),
        )

    def entries(
        self,
        *,
        resident_ref: str | None = None,
        concern_id: str | None = None,
        principal_id: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        grids: Collection[str] = (),
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the access log, newest first, and the cursor of the next page (or None);
        with `grids` (a reader's grid scope) only the entries about those grids. Entries written
        before the log named grids have none: only readers of every grid see them (the log is
        append-only, so they are not filled in later)."""
        db = self._db
        ensure_tables(db)
        where: list[str] = ["1 = 1"]
        params: list[str | int] = []
        if grids:
            scope = sorted(grids)
            where.append(f"grid IN ({', '.join('?' for _ in scope)})")
            params.extend(scope)
        for column, value in (
            ("resident_ref", resident_ref),
            ("concern_id", concern_id),
            ("principal_id", principal_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if cursor is not None:
            where.append("id < ?")
            params.append(_decode_cursor(cursor))
        limit = max(1, min(limit, PAGE_MAX))
        rows = db.fetchall(
            f"SELECT * FROM {TABLE} WHERE {' AND '.join(where)}"  # noqa: S608
            " ORDER BY id DESC LIMIT ?",
            (*params, limit + 1),
        )
        items = [_item(r) for r in rows[:limit]]
        more = len(rows) > limit
        return items, (_encode_cursor(items[-1]["id"]) if more and items else None)


def entries(db: Database, **query: Any) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the access log on `db` (`SqlAccessLog.entries`)."""
    return SqlAccessLog(db).entries(**query)


def _item(row: Any) -> dict[str, Any]:
    if (row["subject"] or "concern") == "visit":
        return {
            **_common(row),
            "subject": "visit",
            "visit_id": row["concern_id"],
            "visit_version": int(row["concern_version"]),
        }
    return {
        **_common(row),
        "subject": "concern",
        "concern_id": row["concern_id"],
        "concern_reference": row["concern_reference"],
        "concern_version": int(row["concern_version"]),
    }


def _common(row: Any) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "at": row["at"],
        "principal_id": row["principal_id"],
        "principal_name": row["principal_name"],
        "roles": row["roles"].split(","),
        "basis": row["basis"],
        "reason": row["reason"],
        "resident_ref": row["resident_ref"],
        "grid": row["grid"],
    }


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "id" or not value.isdigit():
            raise ValueError(raw)
        return int(value)
    except ValueError:
        raise Invalid([("cursor", "is not a cursor this endpoint gave out")]) from None
