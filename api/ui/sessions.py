"""Server-side sessions of the web UI: the cookie holds a random id, the table its hash.

Each session carries its own CSRF token, which every form posted while signed in must echo.
Sessions end at sign-out, at their expiry, or when the principal's password changes.
"""

from __future__ import annotations

import hashlib
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapters.database import Database
from adapters.side_tables import create_tables
from application.ports import Principals
from domain.errors import NotFound
from domain.principal import Principal

TABLE = "minqing_ui_sessions"
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def ensure_tables(db: Database) -> None:
    """Create the sessions table if missing (made with the other side tables whenever the
    store is opened: adapters/side_tables.py)."""
    if db in _ready:
        return
    create_tables(db)
    _ready.add(db)


@dataclass(frozen=True)
class UiSession:
    """A signed-in browser: who it is, the CSRF token its forms carry, when it ends."""

    principal: Principal
    csrf: str
    expires_at: datetime


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(db: Database, principal: Principal, lifetime: timedelta) -> tuple[str, UiSession]:
    """A new session: (the id for the cookie, shown only now; the session)."""
    ensure_tables(db)
    now = datetime.now(UTC)
    session_id = secrets.token_urlsafe(32)
    session = UiSession(principal, secrets.token_urlsafe(32), now + lifetime)
    with db.transaction() as cur:
        # Expired sessions are swept whenever someone signs in.
        cur.execute(f"DELETE FROM {TABLE} WHERE expires_at < ?", (now.isoformat(),))  # noqa: S608
        cur.execute(
            f"INSERT INTO {TABLE} (id_hash, principal_id, csrf, created_at, expires_at)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?)",
            (
                _hash(session_id),
                principal.id,
                session.csrf,
                now.isoformat(),
                session.expires_at.isoformat(),
            ),
        )
    return session_id, session


def find(db: Database, accounts: Principals, session_id: str | None) -> UiSession | None:
    """The live session a cookie names, or None (unknown, ended or expired)."""
    if not session_id:
        return None
    ensure_tables(db)
    row = db.fetchone(
        f"SELECT principal_id, csrf, expires_at FROM {TABLE} WHERE id_hash = ?",  # noqa: S608
        (_hash(session_id),),
    )
    if row is None:
        return None
    expires = datetime.fromisoformat(row["expires_at"])
    if expires <= datetime.now(UTC):
        return None
    try:
        principal = accounts.find(row["principal_id"])
    except NotFound:
        return None
    return UiSession(principal, row["csrf"], expires)


def end(db: Database, session_id: str | None) -> None:
    """End one session (sign-out)."""
    if session_id:
        ensure_tables(db)
        db.execute(f"DELETE FROM {TABLE} WHERE id_hash = ?", (_hash(session_id),))  # noqa: S608


def end_all(db: Database, principal_id: str) -> None:
    """End every session of a principal (its password changed)."""
    ensure_tables(db)
    db.execute(f"DELETE FROM {TABLE} WHERE principal_id = ?", (principal_id,))  # noqa: S608
