"""One watcher of the event log's head per process, shared by every live stream.

PostgreSQL: one thread LISTENs on the events table's channel (the recorder NOTIFYs in each
inserting transaction) on a connection of its own (adapters/sessions.py), and re-reads the
head when woken. SQLite has no notifications: the same thread polls the head every 200 ms.
Either way there is one loop per process, however many clients wait: they wait on the hub,
not the database.

Threads wait on a Condition (`wait`). Coroutines wait on an asyncio.Event the hub sets from
its thread (`wait_async`): parking them on the Condition would pin one worker thread per
open stream, starving the synchronous endpoints that share the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from adapters.outage import Outage
from adapters.service import Service
from adapters.sessions import open_session
from application.minqing import Minqing

log = logging.getLogger(__name__)

SQLITE_POLL_SECONDS = 0.2
# With LISTEN the head is re-read on every notification; this slower re-read only covers a
# lost notification.
SAFETY_POLL_SECONDS = 5.0
# After a failure that is not the database being away (those are retried with backoff).
RECONNECT_SECONDS = 1.0


class LogHub(Service):
    """Knows the log's head position and wakes whoever waits for it to move."""

    thread_name = "minqing-log-hub"
    stop_timeout = 5.0

    def __init__(self, app: Minqing, poll_seconds: float = SQLITE_POLL_SECONDS) -> None:
        super().__init__(Outage("the log hub", log), log)
        self.app = app
        self.poll_seconds = poll_seconds
        self.changed = threading.Condition()
        self._head = int(app.recorder.max_notification_id() or 0)
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def head(self) -> int:
        """The highest position seen in the log."""
        with self.changed:
            return self._head

    def close(self, timeout: float | None = None) -> None:
        """Stop the watcher thread and release every waiter."""
        self.stop(timeout)
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

    def run(self, stop: threading.Event) -> None:
        """Watch the head until `stop` is set."""
        # Each wait ends on a notification, on a connection made anew (LISTEN comes first,
        # so nothing committed after the re-read is missed), or after the interval: in
        # every case the head is re-read.
        session = open_session(self.app, self.outage)
        interval = SAFETY_POLL_SECONDS if session.listens else self.poll_seconds
        try:
            while not stop.is_set():
                if not self.outage.ready(stop, session.ping):
                    continue
                session.wait(interval, stop)
                if stop.is_set():
                    break
                # Keep watching whatever fails: the database may be restarting.
                failed = "reading the event log's head failed"
                self.attempt(self.refresh, stop, failed, RECONNECT_SECONDS)
        finally:
            session.close()
