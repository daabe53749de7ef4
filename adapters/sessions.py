"""A worker's own database session: wake on new events, hold leader locks.

On PostgreSQL a `PostgresSession` (adapters/postgres.py) is one dedicated connection,
outside the recorder's pool: it LISTENs on the events table's channel (the recorder NOTIFYs
in each inserting transaction) and holds session advisory locks, which live as long as the
connection, so a process that dies (even by SIGKILL) gives up its leadership at once and a
standby takes over on its next try. SQLite has neither: a `Sleeper` sleeps (the caller
polls) and every lock is granted, since one process runs the workers there.

The projection runner, the webhook dispatcher, the deadline watcher and the log hub each
open one with `open_session`. A failure of the session is noted on the worker's `Outage`
(adapters/outage.py), which logs an outage once and paces the attempts to connect again;
`ping` is the cheap probe a worker asks before it goes back to work after an outage.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from adapters.database import Database
from adapters.outage import Outage

if TYPE_CHECKING:
    from application.minqing import Minqing

log = logging.getLogger("minqing.session")

# How long one wait lasts at most while kicked, so a kick is prompt.
SLICE_SECONDS = 0.1


def advisory_key(namespace: str, name: str) -> int:
    """A stable signed 64-bit PostgreSQL advisory-lock key for `name` in `namespace`."""
    digest = hashlib.sha256(f"minqing:{namespace}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Session(Protocol):
    """What a worker loop needs of the database between rounds of work."""

    @property
    def listens(self) -> bool:
        """True when `wait` wakes on new events (PostgreSQL), False when it only sleeps."""

    def wait(
        self, seconds: float, stop: threading.Event, kick: threading.Event | None = None
    ) -> bool:
        """Sleep up to `seconds`, less if `stop` or `kick` is set; True when new events
        may have been committed (a notification, or a connection made anew)."""

    def try_lock(self, key: int) -> bool:
        """Take the advisory lock `key` for as long as this session lives, if free."""

    def ping(self) -> None:
        """Raise unless the database answers on this session (connecting it if needed); the
        probe after an outage, so it also drops pooled connections the outage broke."""

    def close(self) -> None:
        """End the session, releasing every lock it holds."""


class Sleeper:
    """SQLite: nothing to listen to, so sleep (waking early when kicked); no locks."""

    listens = False

    def wait(
        self, seconds: float, stop: threading.Event, kick: threading.Event | None = None
    ) -> bool:
        """Sleep until `seconds` pass or `stop` (or `kick`) is set; never woken by events."""
        if kick is None:
            stop.wait(seconds)
            return False
        deadline = time.monotonic() + seconds
        while not stop.is_set() and not kick.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            kick.wait(min(remaining, SLICE_SECONDS))
        return False

    def try_lock(self, key: int) -> bool:
        """Every lock is granted: one process runs the workers on SQLite."""
        return True

    def ping(self) -> None:
        """An embedded file is always there."""

    def close(self) -> None:
        """Nothing to release."""


def open_session(
    app: Minqing,
    outage: Outage,
    *,
    listen: bool = True,
    on_lost: Callable[[], None] | None = None,
) -> Session:
    """The session for `app`'s store: a PostgreSQL connection of its own, or a sleeper.

    `outage` is the owning worker's (it names the worker in log lines); `listen=False` for
    a worker that only needs a lock (its connection then never collects notifications it
    would not read).
    """
    db: Database = app.db
    return db.dialect.session(db, outage, listen=listen, on_lost=on_lost)


def probe(db: Database) -> None:
    """Raise unless `db`'s server answers a fresh connection (nothing to do on SQLite);
    then drop the pooled connections an outage broke."""
    db.dialect.probe(db)
