"""The access log: every read of a resident's personal data, who read it, when and why.

Staff who contact residents (collector, grid leader, staff, admin, the concern's owner) see
the data by their role; a supervisor sees it only on giving a `reason` (with or without
`reveal`); `reveal` without one is refused.
Either way the read is written here before the data leaves, so a read that cannot be logged
is not served. The log holds no personal data itself: only the resident's pseudonym. Each
entry names the grid of what was read, so a supervisor limited to some grids reads only
theirs; a visit's household is logged like a resident's data (`subject` "visit").
"""

from __future__ import annotations

import base64
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.database import Database
from domain.errors import Forbidden, Invalid
from domain.principal import Principal
from domain.vocabulary import Role

if TYPE_CHECKING:
    from application.minqing import Minqing
    from domain.concern import Concern
    from domain.visit import Visit

TABLE = "minqing_access_log"
REASON_MAX = 500
PAGE_MAX = 200
# The roles whose work is contacting residents, in the order the log names the basis.
_CASEWORK = (Role.COLLECTOR, Role.GRID_LEADER, Role.STAFF, Role.ADMIN)
# The one dialect difference of this table: an ever-growing integer id for paging.
_ID = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgres": "BIGSERIAL PRIMARY KEY"}
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
            f" id {_ID[db.dialect]}, at TEXT NOT NULL, principal_id TEXT NOT NULL,"
            " principal_name TEXT NOT NULL, roles TEXT NOT NULL, basis TEXT NOT NULL,"
            " reason TEXT, resident_ref TEXT NOT NULL, concern_id TEXT NOT NULL,"
            " concern_reference TEXT, concern_version BIGINT NOT NULL)"
        )
        cur.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}__resident ON {TABLE} (resident_ref, id)")
        _add_columns(db, cur)
    _ready.add(db)


def _add_columns(db: Database, cur: Any) -> None:
    """Add the columns a table made by an older version lacks (grid, subject)."""
    if db.dialect == "postgres":
        for name, kind in _ADDED:
            cur.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {name} {kind}")
        return
    cur.execute(f"PRAGMA table_info({TABLE})")
    have = {row["name"] for row in cur.fetchall()}
    for name, kind in _ADDED:
        if name not in have:
            cur.execute(f"ALTER TABLE {TABLE} ADD COLUMN {name} {kind}")


@dataclass(frozen=True)
class Access:
    """One read of a resident's personal data."""

    principal: Principal
    basis: str
    reason: str | None
    resident_ref: str
    concern_id: str  # the visit's id when `subject` is "visit"
    concern_reference: str | None
    concern_version: int
    grid: str | None = None
    subject: str = "concern"


def record(db: Database, access: Access, at: datetime | None = None) -> None:
    """Write one access; raises if it cannot be written (then the data must not be shown)."""
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


def _basis(principal: Principal, concern: Concern) -> str | None:
    """Why this principal may see the resident's data by their work, or None."""
    for role in _CASEWORK:
        if role in principal.roles:
            return f"role:{role.value}"
    if principal.member_id is not None and principal.member_id == concern.owner:
        return "owner"
    return None


def clean_reason(reason: str | None) -> str | None:
    """The reason stripped; 422 naming `reason` when it is blank or too long."""
    if reason is None:
        return None
    text = reason.strip()
    if not text:
        raise Invalid([("reason", "must not be blank")])
    if len(text) > REASON_MAX:
        raise Invalid([("reason", f"must be at most {REASON_MAX} characters")])
    return text


def disclose(
    app: Minqing,
    principal: Principal,
    concern: Concern,
    view: dict[str, Any],
    *,
    reveal: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Finish a concern view: reveal the resident's data to a supervisor who gave a reason,
    and log every read of personal data before the view is returned.

    A supervisor's `reason` asks for the data as `reveal` does. `reveal` without a reason
    is 422 for a supervisor; `reveal` from a caller who is neither a supervisor nor entitled
    by their work is 403.
    """
    why = clean_reason(reason)
    basis = _basis(principal, concern)
    if why is not None and basis is None and Role.SUPERVISOR in principal.roles:
        reveal = True
    if reveal and basis is None:
        if Role.SUPERVISOR not in principal.roles:
            raise Forbidden("revealing a resident's personal data is for supervisors")
        if why is None:
            raise Invalid(
                [("reason", "a supervisor must give a reason to see a resident's personal data")]
            )
        basis = "supervisor"
        if concern.resident_ref and concern.resident_data:
            data = app.keyring.open(concern.resident_ref, concern.resident_data)
            view["resident"] = data.as_dict() if data else {"erased": True}
    resident = view.get("resident")
    shown = isinstance(resident, dict) and not (resident.get("erased") or resident.get("redacted"))
    if shown and basis is not None and concern.resident_ref:
        record(
            app.db,
            Access(
                principal=principal,
                basis=basis,
                reason=why,
                resident_ref=concern.resident_ref,
                concern_id=str(concern.id),
                concern_reference=concern.reference,
                concern_version=concern.version,
                grid=concern.grid,
            ),
        )
    return view


def disclose_household(app: Minqing, principal: Principal, visit: Visit) -> dict[str, Any]:
    """A visit's household for this reader: `household` (the text, or None) and
    `household_state` (`shown`, `redacted` for readers whose work is not contacting
    residents, `erased`); a sealed household shown is logged first, like a resident's data."""
    basis = next((f"role:{r.value}" for r in _CASEWORK if r in principal.roles), None)
    found: dict[str, Any] = {"household": None, "household_ref": visit.household_ref}
    if basis is None:
        return {**found, "household_state": "redacted"}
    text = app.household_of(visit)
    if text is None:
        return {**found, "household_state": "erased"}
    if visit.household_ref is not None:
        record(
            app.db,
            Access(
                principal=principal,
                basis=basis,
                reason=None,
                resident_ref=visit.household_ref,
                concern_id=str(visit.id),
                concern_reference=None,
                concern_version=visit.version,
                grid=visit.grid,
                subject="visit",
            ),
        )
    return {**found, "household": text, "household_state": "shown"}


def entries(
    db: Database,
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
