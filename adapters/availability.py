"""Is it the database? The one place that reads a failure's chain of causes and says
whether the database was away or busy, rather than the statement or the caller at fault.

- `unavailable`: the database cannot be reached right now (a refused or lost connection,
  the server shutting down or starting up, too many connections). Workers log such an
  outage once and retry with backoff (adapters/outage.py).
- `transient`: that, or the database is reachable but busy (a lock or statement timeout,
  SQLite's locked file, this process's pool closing): a retry may cure it. The API answers
  these 503 with Retry-After (api/errors.py); a read model never parks an event for them
  (projections/parking.py).

Inside a transaction the driver's own exception arrives; outside, eventsourcing's wrapper
of it (its cause). The driver's error decides; a wrapper alone counts when it is an
operational or interface error, or the library's bare PersistenceError.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from enum import Enum

import eventsourcing.persistence as es
import psycopg
from psycopg_pool import PoolClosed

# What the drivers and the library raise when a statement could not be carried out.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    es.PersistenceError,
)


class Trouble(Enum):
    """What a failure says of the database."""

    DOWN = "down"  # it cannot be reached now
    BUSY = "busy"  # reachable, but a lock, a timeout or a closing pool stopped the work


# SQLSTATEs that mean "the server cannot serve this session", not "this statement is wrong":
# connection exceptions (class 08), the server shutting down or starting up (57P01–57P05)
# and too many connections or other resources (class 53).
_DOWN_STATES = ("08", "57P0", "53")
# What SQLite says when another process holds the file or the file cannot be reached; its
# other OperationalErrors (a missing table, bad SQL) are faults of ours.
_SQLITE_BUSY = ("locked", "busy", "unable to open", "disk i/o")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def trouble(exc: BaseException) -> Trouble | None:
    """What `exc` (or what caused it) says of the database; None: not the database's."""
    for cause in _causes(exc):
        if isinstance(cause, sqlite3.OperationalError):
            text = str(cause).lower()
            return Trouble.BUSY if any(word in text for word in _SQLITE_BUSY) else None
        if isinstance(cause, PoolClosed):
            return Trouble.BUSY  # this process closed its own pool: shutting down
        if isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
            state = cause.sqlstate
            down = state is None or state.startswith(_DOWN_STATES)
            return Trouble.DOWN if down else Trouble.BUSY
        if isinstance(cause, ConnectionError):
            return Trouble.DOWN
        if isinstance(cause, TimeoutError | es.ConnectionPoolClosedError):
            return Trouble.BUSY
    wrapped = isinstance(exc, es.OperationalError | es.InterfaceError)
    return Trouble.BUSY if wrapped or type(exc) is es.PersistenceError else None


def unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached right now."""
    return trouble(exc) is Trouble.DOWN


def transient(exc: BaseException) -> bool:
    """True for an error of the database's availability, which a retry may cure."""
    return trouble(exc) is not None
