"""One watcher of the event log's head per process, shared by every live stream.

PostgreSQL: one thread LISTENs on the events table's channel (the recorder NOTIFYs in each
inserting transaction) on a connection of its own, and re-reads the head when woken.
SQLite has no notifications: the same thread polls the head every 200 ms. Either way there
is one loop per process, however many clients wait: they wait on the hub, not the database.

Threads wait on a Condition (`wait`). Coroutines wait on an asyncio.Event the hub sets from
its thread (`wait_async`): parking them on the Condition would pin one worker thread per
open stream, starving the synchronous endpoints that share the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

import psycopg
from psycopg import sql

from domain.application import Minqing

log = logging.getLogger(__name__)

SQLITE_POLL_SECONDS = 0.2
# With LISTEN the head is re-read on every notification; this slower re-read only covers a
# notification lost while the listening connection was being re-established.
SAFETY_POLL_SECONDS = 5.0
RECONNECT_SECONDS = 1.0


class LogHub:
    """Knows the log's head position and wakes whoever waits for it to move."""

    def __init__(self, app: Minqing, poll_seconds: float = SQLITE_POLL_SECONDS) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self.changed = threading.Condition()
        self._head = int(app.recorder.max_notification_id() or 0)
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def head(self) -> int:
        """The highest position seen in the log."""
        with self.changed:
            return self._head

    def start(self) -> None:
        """Start the watcher thread (once)."""
        if self._thread is not None:
            return
        target = self._listen if self.app.db.dialect == "postgres" else self._poll
        self._thread = threading.Thread(target=target, name="minqing-log-hub", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the watcher thread and release every waiter."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._announce(self.head, force=True)

    def wait(self, seen: int, timeout: float) -> int:
        """Block this thread until the head passes `seen` or `timeout` elapses; the head."""
        with self.changed:
            self.changed.wait_for(lambda: self._head > seen or self._stop.is_set(), timeout)
            return self._head

    async def wait_async(self, seen: int, timeout: float) -> int:
        """Wait (without a thread) until the head passes `seen` or `timeout` elapses."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self.changed:
            if self._head > seen or self._stop.is_set():
                return self._head
            self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            with self.changed:
                self._waiters.discard(waiter)
        return self.head

    def refresh(self) -> int:
        """Re-read the head from the database and wake waiters if it moved."""
        head = int(self.app.recorder.max_notification_id() or 0)
        self._announce(head)
        return head

    def _announce(self, head: int, *, force: bool = False) -> None:
        with self.changed:
            if head <= self._head and not force:
                return
            self._head = max(head, self._head)
            self.changed.notify_all()
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(event.set)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # keep watching: the next poll may succeed
                log.exception("reading the event log's head failed")

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    recorder: Any = self.app.recorder  # PostgresApplicationRecorder here
                    channel = recorder.channel_name
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.refresh()  # anything committed while we were not listening
                    last = time.monotonic()
                    while not self._stop.is_set():
                        woken = any(True for _ in conn.notifies(timeout=0.5, stop_after=1))
                        if woken or time.monotonic() - last > SAFETY_POLL_SECONDS:
                            self.refresh()
                            last = time.monotonic()
            except Exception:  # reconnect: the database may be restarting
                log.exception("listening for new events failed; reconnecting")
                self._stop.wait(RECONNECT_SECONDS)

    def _connect(self) -> psycopg.Connection[Any]:
        # A connection of its own: LISTEN holds it for the life of the process, and the
        # recorder's pool is sized for the request threads.
        recorder: Any = self.app.recorder
        kwargs = dict(recorder.datastore.pool.kwargs)
        kwargs.pop("row_factory", None)
        return psycopg.connect(**kwargs, autocommit=True)
