"""Sign-in passwords (argon2) for the web UI, and the lock-out after repeated failures.

Passwords live in a table of their own beside the principals; bearer tokens are untouched.
Failed attempts are counted per user name (known or not, so the answer never tells which
names exist) and client address in a sliding window: at the limit that name is locked *from
that address* until the oldest failure in the window has aged out, so someone elsewhere who
knows a name cannot lock its owner out. A higher limit per name over every address bounds a
brute force spread over many addresses.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from adapters.database import Database
from adapters.side_tables import create_tables
from application.ports import Principals
from domain.errors import Invalid, NotFound
from domain.principal import Principal

PASSWORDS = "minqing_ui_passwords"
FAILURES = "minqing_ui_signin_failures"
MIN_LENGTH = 8
MAX_LENGTH = 256
_hasher = PasswordHasher()
# Verified against when the name has no password, so a wrong name costs as long as a wrong
# password and the timing does not tell them apart.
_DUMMY = _hasher.hash("minqing: no such user")
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def ensure_tables(db: Database) -> None:
    """Create the password and failure tables if missing (made with the other side tables
    whenever the store is opened: adapters/side_tables.py)."""
    if db in _ready:
        return
    create_tables(db)
    _ready.add(db)


@dataclass(frozen=True)
class Limits:
    """How many failures within how long lock a user name: from one client address
    (`failures`), and from all addresses together (`name_failures`)."""

    failures: int = 5
    window: timedelta = timedelta(minutes=15)
    name_failures: int = 50


class SignInRefused(Exception):
    """Wrong name or password, or the name is locked; `locked_until` says which."""

    def __init__(self, locked_until: datetime | None = None) -> None:
        super().__init__("locked" if locked_until else "wrong name or password")
        self.locked_until = locked_until


def set_password(db: Database, accounts: Principals, name: str, password: str) -> Principal:
    """Set (or replace) a principal's sign-in password; its failures are forgotten."""
    ensure_tables(db)
    if len(password) < MIN_LENGTH:
        raise Invalid([("password", f"must be at least {MIN_LENGTH} characters")])
    if len(password) > MAX_LENGTH:
        raise Invalid([("password", f"must be at most {MAX_LENGTH} characters")])
    principal = accounts.find(name)
    now = _now()
    with db.transaction() as cur:
        cur.execute(f"DELETE FROM {PASSWORDS} WHERE principal_id = ?", (principal.id,))  # noqa: S608
        cur.execute(
            f"INSERT INTO {PASSWORDS} (principal_id, hash, updated_at) VALUES (?, ?, ?)",  # noqa: S608
            (principal.id, _hasher.hash(password), now.isoformat()),
        )
        cur.execute(f"DELETE FROM {FAILURES} WHERE name = ?", (principal.name,))  # noqa: S608
    return principal


def has_password(db: Database, principal_id: str) -> bool:
    """True when the principal can sign in to the web UI."""
    ensure_tables(db)
    row = db.fetchone(f"SELECT 1 AS x FROM {PASSWORDS} WHERE principal_id = ?", (principal_id,))  # noqa: S608
    return row is not None


def sign_in(
    db: Database,
    accounts: Principals,
    name: str,
    password: str,
    limits: Limits,
    now: datetime | None = None,
    *,
    address: str = "",
) -> Principal:
    """The principal whose name and password these are, or SignInRefused; `address` is
    the client's (the lock-out counts failures per name and address)."""
    ensure_tables(db)
    now = now or _now()
    name = name.strip()
    since = (now - limits.window).isoformat()
    every = db.fetchall(
        f"SELECT at, address FROM {FAILURES} WHERE name = ? AND at >= ? ORDER BY at",  # noqa: S608
        (name, since),
    )
    rows = [r for r in every if r["address"] == address]
    # The per-name limit: its lock lifts when enough of the oldest failures have aged out.
    if len(every) >= limits.name_failures:
        raise SignInRefused(_until(every[len(every) - limits.name_failures]["at"], limits))
    if len(rows) >= limits.failures:
        raise SignInRefused(_until(rows[len(rows) - limits.failures]["at"], limits))
    principal, stored = _stored(db, accounts, name)
    try:
        _hasher.verify(stored or _DUMMY, password)
        ok = stored is not None and principal is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and principal is not None and stored is not None:
        # A success forgets the failures from this address; those from elsewhere still
        # count towards the name's limit.
        db.execute(
            f"DELETE FROM {FAILURES} WHERE name = ? AND address = ?",  # noqa: S608
            (name, address),
        )
        if _hasher.check_needs_rehash(stored):
            set_password(db, accounts, principal.name, password)
        return principal
    db.execute(
        f"INSERT INTO {FAILURES} (name, at, address) VALUES (?, ?, ?)",  # noqa: S608
        (name, now.isoformat(), address),
    )
    rows.append({"at": now.isoformat(), "address": address})
    every.append(rows[-1])
    if len(every) >= limits.name_failures:
        raise SignInRefused(_until(every[len(every) - limits.name_failures]["at"], limits))
    if len(rows) >= limits.failures:
        raise SignInRefused(_until(rows[len(rows) - limits.failures]["at"], limits))
    raise SignInRefused()


def _stored(db: Database, accounts: Principals, name: str) -> tuple[Principal | None, str | None]:
    if not name:
        return None, None
    try:
        principal = accounts.find(name)
    except NotFound:
        return None, None
    if principal.name != name:  # found by id: sign-in is by name only
        return None, None
    row = db.fetchone(f"SELECT hash FROM {PASSWORDS} WHERE principal_id = ?", (principal.id,))  # noqa: S608
    return principal, (row["hash"] if row else None)


def _until(first_failure: str, limits: Limits) -> datetime:
    return datetime.fromisoformat(first_failure) + limits.window


def _now() -> datetime:
    return datetime.now(UTC)
