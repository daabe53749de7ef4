"""Riding out a database outage: retry with capped exponential backoff, log it twice.

A worker that finds PostgreSQL refusing connections (or losing them) must neither exit nor
write a traceback per attempt. It notes each failed attempt on its `Outage`; the first one
logs one line (what failed), the next round of work that succeeds logs one more (how long it
lasted). Between attempts `ready` waits 1 s, then 2, 4 … up to 30 s, each time asking a cheap
`probe` (a fresh connection) before the worker's real work goes back to the pool, so a stop
(SIGTERM) is never stuck behind a pool waiting for connections that cannot be made.

Errors that are not about reaching the database (a bug, a constraint) are not outages:
`unavailable` (adapters/availability.py) tells them apart, and the caller handles those as
before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from adapters.availability import unavailable

__all__ = ["Outage", "patiently", "reason", "unavailable"]

T = TypeVar("T")

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0
_MAX_REASON = 200


def reason(exc: BaseException) -> str:
    """One short line saying what failed (psycopg's messages run over several lines)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


class Outage:
    """One worker's view of the database: up, or down since a moment, retried with backoff.

    Thread-safe: a worker's helper threads (webhook deliveries) note failures on it too.
    """

    def __init__(
        self,
        owner: str,
        logger: logging.Logger,
        *,
        first: float = FIRST_DELAY_SECONDS,
        cap: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.owner = owner
        self.first = first
        self.cap = cap
        self._log = logger
        self._lock = threading.Lock()
        self._since: float | None = None  # monotonic time of the first failure
        self._delay = first
        self._next_attempt = 0.0
        self.attempts = 0

    @property
    def down(self) -> bool:
        """True from a failed attempt until a round of work succeeds again."""
        with self._lock:
            return self._since is not None

    def failed(self, exc: BaseException) -> None:
        """Note a failed attempt; the first of an outage logs one line, the others none."""
        now = time.monotonic()
        with self._lock:
            starting = self._since is None
            if starting:
                self._since, self._delay, self.attempts = now, self.first, 0
            elif now >= self._next_attempt:  # a failure noted while waiting does not count
                self._delay = min(self._delay * 2, self.cap)
            self.attempts += 1
            self._next_attempt = now + self._delay
        if starting:
            self._log.warning(
                "%s: database unavailable (%s); retrying every %g s, up to every %g s,"
                " until it answers",
                self.owner,
                reason(exc),
                self.first,
                self.cap,
            )

    def recovered(self) -> None:
        """Note a round of work that succeeded; ends an outage with one line."""
        with self._lock:
            since, self._since = self._since, None
            attempts = self.attempts
        if since is not None:
            self._log.warning(
                "%s: database available again after %.1f s (%d failed attempts)",
                self.owner,
                time.monotonic() - since,
                attempts,
            )

    def ready(self, stop: threading.Event, probe: Callable[[], object] | None = None) -> bool:
        """True when work may be tried: at once when the database is up; during an outage
        after the backoff delay, and only if `probe()` (a fresh connection) succeeds.
        False when stopped or when the probe failed (noted: the next delay is longer)."""
        with self._lock:
            if self._since is None:
                return True
            wait = self._next_attempt - time.monotonic()
        if wait > 0 and stop.wait(wait):
            return False
        if stop.is_set():
            return False
        if probe is not None:
            try:
                probe()
            except Exception as exc:
                if not unavailable(exc):
                    raise
                self.failed(exc)
                return False
        return True


def patiently(
    action: Callable[[], T],
    stop: threading.Event,
    outage: Outage,
    probe: Callable[[], object] | None = None,
) -> T | None:
    """`action()`, tried again for as long as the database is unavailable; None when
    `stop` is set first. Any other error is raised at once."""
    while not stop.is_set():
        if not outage.ready(stop, probe):
            continue
        try:
            result = action()
        except Exception as exc:
            if not unavailable(exc):
                raise
            outage.failed(exc)
            continue
        outage.recovered()
        return result
    return None
