"""The machinery every background service shares: a loop in a thread (or the foreground)
until a stop event, leadership under advisory locks on the service's own session, and the
policy for a round that failed.

The projection runner, the webhook dispatcher, the deadline watcher and the checkpoint
scheduler are each a `Service`: they write `run(stop)` (their loop: wait for the database,
lead, do a round with `attempt`, wait) and inherit `start`/`stop`. A round that fails
because the database is away is noted on the service's `Outage` (one log line per outage,
retried with backoff: adapters/outage.py); any other failure is logged with its traceback
and the loop goes on. `minqing worker …` runs one in the foreground until SIGTERM
(workers/process.py).
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from adapters.availability import unavailable
from adapters.outage import Outage
from adapters.sessions import Session

T = TypeVar("T")


class Service(ABC):
    """A loop of rounds until stopped; in a background thread (`start`) or in the caller's
    (`run`)."""

    thread_name: ClassVar[str]
    stop_timeout: ClassVar[float] = 10.0

    def __init__(self, outage: Outage, log: logging.Logger) -> None:
        self.outage = outage
        self.last_error: str | None = None
        self._log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set."""

    def start(self) -> None:
        """Run in a background thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name=self.thread_name, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the background thread after the work in hand."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.stop_timeout if timeout is None else timeout)
            self._thread = None

    def close(self) -> None:  # noqa: B027 - a hook: most services hold nothing else
        """Release what the service holds besides its thread (nothing by default)."""

    def attempt(
        self, work: Callable[[], T], stop: threading.Event, failed: str, backoff: float = 0.0
    ) -> Round[T]:
        """One round of `work()`.

        The database being away is noted on the outage (logged once, retried with backoff
        by the next `outage.ready`); anything else is logged as `failed`, with its
        traceback, and waited `backoff` seconds. Either way the service lives on.
        """
        try:
            result = work()
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            if unavailable(exc):
                self.outage.failed(exc)
                return Round(outage=True)
            self._log.exception(failed)
            if backoff:
                stop.wait(backoff)
            return Round()
        self.last_error = None
        self.outage.recovered()
        return Round(done=True, result=result)


class LeadingService(Service):
    """A service of which one process's instance works at a time: it holds the one lock of
    its `leadership` (PostgreSQL), the others wait as standby."""

    leadership: Leadership

    @property
    def leader_election(self) -> bool:
        """True when one instance leads and the others wait (PostgreSQL)."""
        return self.leadership.election

    @property
    def leading(self) -> bool:
        """True while this instance works (it holds the lock, or there is no election)."""
        return bool(self.leadership.held)


@dataclass(frozen=True)
class Round(Generic[T]):
    """What one round came to: done (with its result), or failed (for the database's sake:
    `outage`, or another error, already logged)."""

    done: bool = False
    outage: bool = False
    result: T | None = None


class Leadership:
    """Which of some advisory locks (by name) this process holds on its session.

    With `election` off (SQLite, or a test that runs several on purpose) every one is held.
    A lock lives as long as the session's connection: `lost` forgets them all when it dies,
    and the next `elect` asks again.
    """

    def __init__(
        self,
        keys: Mapping[str, int],
        *,
        election: bool,
        retry_seconds: float,
        log: logging.Logger,
        what: str = "%s",
    ) -> None:
        self.keys = dict(keys)
        self.election = election
        self.retry_seconds = retry_seconds
        self._log = log
        self._what = what
        self._next = 0.0
        self.held: set[str] = set() if election else set(self.keys)

    def elect(self, session: Session) -> set[str]:
        """Ask for the locks not held yet, at most every `retry_seconds`; the held ones."""
        if self.election and time.monotonic() >= self._next:
            for name, key in self.keys.items():
                if name not in self.held and session.try_lock(key):
                    self.held.add(name)
                    self._log.info("leading " + self._what, name)
            self._next = time.monotonic() + self.retry_seconds
        return self.held

    def lost(self) -> None:
        """The session's connection died, and the locks with it."""
        if self.election:
            self.held = set()

    def reset(self) -> None:
        """The service stopped: its session, and so its locks, are gone."""
        self.held = set() if self.election else set(self.keys)
