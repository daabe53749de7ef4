"""A worker's own database session: wake on new events, hold leader locks.

On PostgreSQL a `PostgresSession` is one dedicated connection, outside the recorder's pool:
it LISTENs on the events table's channel (the recorder NOTIFYs in each inserting
transaction) and holds session advisory locks, which live as long as the connection, so a
process that dies (even by SIGKILL) gives up its leadership at once and a standby takes
over on its next try. SQLite has neither: a `Sleeper` sleeps (the caller polls) and every
lock is granted, since one process runs the workers there.

The projection runner, the webhook dispatcher, the deadline watcher and the log hub each
open one with `open_session`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import psycopg
from psycopg import sql

from domain.application import Minqing

log = logging.getLogger("minqing.session")

# After a failed connection or query, wait this long before the caller tries again.
ERROR_BACKOFF_SECONDS = 1.0
# How long one wait for a notification lasts at most, so a stop (or a kick) is prompt.
SLICE_SECONDS = 0.1
KICKED_SLICE_SECONDS = 0.05


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

    def close(self) -> None:
        """Nothing to release."""


class PostgresSession:
    """A dedicated PostgreSQL connection: LISTEN for new events, hold advisory locks.

    The connection is made on first use and again after it fails; `on_lost` is called
    whenever the locks taken so far are gone (the old connection closed), so the owner
    stops believing it leads.
    """

    def __init__(
        self,
        app: Minqing,
        owner: str,
        *,
        listen: bool = True,
        on_lost: Callable[[], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        recorder: Any = app.recorder  # a PostgresApplicationRecorder here
        pool = recorder.datastore.pool
        self._conninfo: str = pool.conninfo
        self._kwargs = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        self._channel: str = recorder.channel_name
        self._listen = listen
        self._owner = owner
        self._on_lost = on_lost or (lambda: None)
        self._log = logger or log
        self._conn: psycopg.Connection[Any] | None = None
        # Set when a connection is made: events committed before its LISTEN sent no
        # notification to it, so the next wait reports that some may have been missed.
        self._fresh = False

    @property
    def listens(self) -> bool:
        """True when this session LISTENs for new events."""
        return self._listen

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._on_lost()  # locks die with the old connection
            conn = psycopg.connect(self._conninfo, autocommit=True, **self._kwargs)
            if self._listen:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._conn = conn
            self._fresh = True
        return self._conn

    def _lost(self, exc: Exception) -> None:
        self._log.warning("%s lost its PostgreSQL session: %s", self._owner, exc)
        self._on_lost()
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def wait(
        self, seconds: float, stop: threading.Event, kick: threading.Event | None = None
    ) -> bool:
        """Wait for a notification up to `seconds`, less if `stop` or `kick` is set."""
        deadline = time.monotonic() + seconds
        step = SLICE_SECONDS if kick is None else KICKED_SLICE_SECONDS
        try:
            conn = self._connection()
            if self._fresh:
                self._fresh = False
                if self._listen:
                    return True
            # Short slices keep a stop or a kick prompt; a notification ends the wait.
            while not stop.is_set() and not (kick is not None and kick.is_set()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                for _ in conn.notifies(timeout=min(remaining, step), stop_after=1):
                    return True
        except psycopg.Error as exc:
            self._lost(exc)
            stop.wait(ERROR_BACKOFF_SECONDS)
            return True  # a notification may have been lost with the connection
        return False

    def try_lock(self, key: int) -> bool:
        """Take the session advisory lock `key` if no other session holds it."""
        try:
            row = self._connection().execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        except psycopg.Error as exc:
            self._lost(exc)
            return False
        return bool(row and row[0])

    def close(self) -> None:
        """Close the connection, which releases every advisory lock it held."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def open_session(
    app: Minqing,
    owner: str,
    *,
    listen: bool = True,
    on_lost: Callable[[], None] | None = None,
    logger: logging.Logger | None = None,
) -> Session:
    """The session for `app`'s store: a PostgreSQL connection of its own, or a sleeper.

    `owner` names the worker in log lines; `listen=False` for a worker that only needs a
    lock (its connection then never collects notifications it would not read).
    """
    if app.db.dialect == "postgres":
        return PostgresSession(app, owner, listen=listen, on_lost=on_lost, logger=logger)
    return Sleeper()
