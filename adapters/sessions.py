"""A worker's own database session: wake on new events, hold leader locks.

On PostgreSQL a `PostgresSession` is one dedicated connection, outside the recorder's pool:
it LISTENs on the events table's channel (the recorder NOTIFYs in each inserting
transaction) and holds session advisory locks, which live as long as the connection, so a
process that dies (even by SIGKILL) gives up its leadership at once and a standby takes
over on its next try. SQLite has neither: a `Sleeper` sleeps (the caller polls) and every
lock is granted, since one process runs the workers there.

The projection runner, the webhook dispatcher, the deadline watcher and the log hub each
open one with `open_session`. A failure of the session is noted on the worker's `Outage`
(domain/outage.py), which logs an outage once and paces the attempts to connect again;
`ping` is the cheap probe a worker asks before it goes back to work after an outage.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import psycopg
from psycopg import sql

from adapters.database import Database
from adapters.outage import Outage
from adapters.pgpool import CONNECT_TIMEOUT_SECONDS
from application.minqing import Minqing

log = logging.getLogger("minqing.session")

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


class PostgresSession:
    """A dedicated PostgreSQL connection: LISTEN for new events, hold advisory locks.

    The connection is made on first use and again after it fails; `on_lost` is called
    whenever the locks taken so far are gone (the old connection closed), so the owner
    stops believing it leads. Failures are noted on `outage`; while it is down, `wait` and
    `try_lock` do not try to connect (the owner's loop probes with `ping` when it is time).
    """

    def __init__(
        self,
        app: Minqing,
        outage: Outage,
        *,
        listen: bool = True,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        recorder: Any = app.recorder  # a PostgresApplicationRecorder here
        pool = recorder.datastore.pool
        self._pool = pool
        self._conninfo: str = pool.conninfo
        self._kwargs = connect_kwargs(pool.kwargs)
        self._channel: str = recorder.channel_name
        self._listen = listen
        self._outage = outage
        self._on_lost = on_lost or (lambda: None)
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

    def _lost(self) -> None:
        self._on_lost()
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def _usable(self) -> bool:
        # During an outage only the owner's probe (`ping`) connects, at its backoff pace.
        return not self._outage.down or (self._conn is not None and not self._conn.closed)

    def wait(
        self, seconds: float, stop: threading.Event, kick: threading.Event | None = None
    ) -> bool:
        """Wait for a notification up to `seconds`, less if `stop` or `kick` is set."""
        deadline = time.monotonic() + seconds
        step = SLICE_SECONDS if kick is None else KICKED_SLICE_SECONDS
        if not self._usable():
            return True  # the owner's loop waits out the outage (and probes) itself
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
            self._lost()
            self._outage.failed(exc)
            return True  # a notification may have been lost with the connection
        return False

    def try_lock(self, key: int) -> bool:
        """Take the session advisory lock `key` if no other session holds it."""
        if not self._usable():
            return False
        try:
            row = self._connection().execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        except psycopg.Error as exc:
            self._lost()
            self._outage.failed(exc)
            return False
        return bool(row and row[0])

    def ping(self) -> None:
        """Raise unless the server answers on this session, connecting it if needed; then
        drop the pooled connections an outage broke."""
        try:
            self._connection().execute("SELECT 1")
        except psycopg.Error:
            self._lost()
            raise
        self._pool.check()

    def close(self) -> None:
        """Close the connection, which releases every advisory lock it held."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


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
    if app.db.dialect == "postgres":
        return PostgresSession(app, outage, listen=listen, on_lost=on_lost)
    return Sleeper()


def connect_kwargs(pool_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """psycopg.connect's arguments for a connection beside the recorder's pool."""
    kwargs = {k: v for k, v in pool_kwargs.items() if k != "row_factory"}
    # A host that does not answer at all would hold libpq for the system's TCP timeout.
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    return kwargs


def probe_env(env: Mapping[str, str]) -> None:
    """Connect once to the event store `env` (from `event_store_env`) names, and hang up:
    raises when PostgreSQL does not answer; nothing to do on SQLite."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return
    kwargs = connect_kwargs(
        {
            "dbname": env["POSTGRES_DBNAME"],
            "host": env["POSTGRES_HOST"],
            "port": env["POSTGRES_PORT"],
            "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"],
        }
    )
    psycopg.connect(**kwargs).close()


def probe(db: Database) -> None:
    """Connect once to `db`'s PostgreSQL and hang up, outside the pool (whose wait for a
    connection is long): raises when the server does not answer; nothing on SQLite. Then
    drop the pooled connections an outage broke (each checked with an empty query), so the
    work that follows does not fail on them one by one."""
    if db.dialect != "postgres":
        return
    pool = db.recorder.datastore.pool
    psycopg.connect(pool.conninfo, **connect_kwargs(pool.kwargs)).close()
    pool.check()
