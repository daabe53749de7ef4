"""The event store's PostgreSQL pool, tuned for a database that may go away.

eventsourcing builds a psycopg pool and reads no setting for these: `tune` sets them on it
before it opens (PostgresRecorder, adapters/postgres.py).

- Idle connections above the pool's size are closed after POOL_MAX_IDLE_SECONDS (psycopg
  closes one per period; its default period is 10 minutes).
- A connection attempt that keeps failing is given up after POOL_RECONNECT_SECONDS (psycopg
  retries one for 5 minutes with a doubling delay, so after a long outage its next try would
  come minutes after the database is back); the next thread that needs one makes one anew.
- Each attempt gives up after CONNECT_TIMEOUT_SECONDS when the host does not answer at all.
- While the pool's last attempt to connect failed (within FAILING_SECONDS), a thread waits
  FAIL_FAST_WAIT_SECONDS for a connection instead of the full wait: during an outage a
  request then fails in a few seconds, eventsourcing's ten retries of its reads and inserts
  included, not after ten full waits (100 s) that hold the thread and delay a shutdown.
"""

from __future__ import annotations

import time
from typing import Any

from eventsourcing.postgres import ConnectionPool

POOL_MAX_IDLE_SECONDS = 30.0
POOL_RECONNECT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5
FAILING_SECONDS = 10.0
FAIL_FAST_WAIT_SECONDS = 0.25


class FailFastPool(ConnectionPool[Any]):
    """The library's pool, which stops waiting early for a connection it cannot make."""

    _failed_at: float | None = None

    def _connect(self, timeout: float | None = None) -> Any:
        try:
            conn = super()._connect(timeout)
        except Exception:
            self._failed_at = time.monotonic()
            raise
        self._failed_at = None
        return conn

    def getconn(self, timeout: float | None = None) -> Any:
        """A connection; waiting only briefly while the server refuses new ones."""
        failed_at = self._failed_at
        if failed_at is not None and time.monotonic() - failed_at < FAILING_SECONDS:
            wait = self.timeout if timeout is None else timeout
            timeout = min(wait, FAIL_FAST_WAIT_SECONDS)
        return super().getconn(timeout)


def tune(pool: Any) -> None:
    """Apply this module's settings to eventsourcing's pool, which must not be open yet."""
    pool.max_idle = POOL_MAX_IDLE_SECONDS
    pool.reconnect_timeout = POOL_RECONNECT_SECONDS
    pool.kwargs["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    # The same object and state, with the two methods above: eventsourcing constructs the
    # pool itself and takes no pool class.
    pool.__class__ = FailFastPool
