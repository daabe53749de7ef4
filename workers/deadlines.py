"""The deadline watcher: records `DeadlineMissed` and `FeedbackOverdue` when they fall due.

Every `interval_seconds` it sweeps: the concern list projection names the concerns that
still need a fact (a passed due date not yet recorded missed; a resolution whose feedback
window has passed and was not recorded overdue in this round), read along an index, and
`Minqing.record_missed_deadlines` records what is due on each. That call decides on the
aggregate itself: a fact is recorded at most once, whatever the read model says, however
many watchers run and however often, because two saves of the same concern conflict and the
loser reloads and finds the fact there. So the projection only has to be efficient, not
exact: a concern it lists that needs nothing (the list lagging behind a fact just recorded)
costs one load and records nothing. A concern that fails (it cannot be loaded, or keeps
changing under the watcher) is logged and skipped; the sweep goes on and the next one tries
it again.

The clock is the application's (`Minqing(clock=…)`), so tests move time instead of sleeping.

One watcher sweeps at a time on PostgreSQL: the leader holds an advisory lock on a
connection of its own and the others wait as standby (for economy: correctness never
depends on the lock). Run it as `minqing worker deadlines`, or in the API process's
embedded background thread (`MINQING_EMBEDDED_WORKERS`). While the database is unavailable
(also when the worker starts) it waits with backoff and logs the outage once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

from adapters.outage import Outage, unavailable
from adapters.sessions import advisory_key, open_session
from application.bootstrap import open_minqing, open_when_ready
from application.minqing import Minqing
from application.settings import Settings
from projections.concerns import WATCH_PAGE, deadline_candidates

log = logging.getLogger("minqing.deadlines")

LEADER_KEY = advisory_key("deadlines", "watcher")
STANDBY_RETRY_SECONDS = 2.0
DEFAULT_FEEDBACK_WINDOW_DAYS = 7
DEFAULT_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class WatcherConfig:
    """How the watcher behaves; `from_settings` reads it from MINQING_* settings."""

    feedback_window_days: int = DEFAULT_FEEDBACK_WINDOW_DAYS
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    page_size: int = WATCH_PAGE
    standby_retry_seconds: float = STANDBY_RETRY_SECONDS
    leader_election: bool = True

    def __post_init__(self) -> None:
        if self.feedback_window_days < 1:
            msg = "MINQING_FEEDBACK_WINDOW_DAYS must be at least 1"
            raise ValueError(msg)
        if self.interval_seconds <= 0:
            msg = "MINQING_DEADLINE_CHECK_SECONDS must be positive"
            raise ValueError(msg)

    @classmethod
    def from_settings(cls, settings: Settings) -> WatcherConfig:
        """The configuration the API process and `minqing worker deadlines` share."""
        return cls(
            feedback_window_days=settings.feedback_window_days,
            interval_seconds=settings.deadline_check_seconds,
        )


@dataclass
class Sweep:
    """What one sweep did: concerns looked at, facts recorded by kind, concerns that failed."""

    checked: int = 0
    recorded: Counter[str] = field(default_factory=Counter)
    failed: int = 0


class DeadlineWatcher:
    """Records missed due dates and overdue feedback; in a thread or in the foreground."""

    def __init__(
        self, app: Minqing, config: WatcherConfig | None = None, outage: Outage | None = None
    ) -> None:
        self.app = app
        self.config = config or WatcherConfig()
        self.outage = outage or Outage("deadline watcher", log)
        self.leader_election = self.config.leader_election and app.db.dialect.shared
        self.leading = not self.leader_election
        self.last_sweep: Sweep | None = None
        self.last_error: str | None = None
        # Set after every finished sweep (tests and the CLI wait on it).
        self.swept = threading.Condition()
        self.sweeps = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self, stop: threading.Event | None = None) -> Sweep:
        """Record every fact due now, concern by concern; stops early when `stop` is set."""
        done = Sweep()
        window = self.config.feedback_window_days
        now = self.app.clock()
        for concern_id in deadline_candidates(self.app.db, now, window, self.config.page_size):
            if stop is not None and stop.is_set():
                break
            done.checked += 1
            try:
                recorded = self.app.record_missed_deadlines(UUID(concern_id), window)
            except Exception as exc:  # one bad concern must not stop the others
                if unavailable(exc):
                    raise  # nor can they be recorded: the loop waits for the database
                done.failed += 1
                log.exception("recording the deadline facts of concern %s failed", concern_id)
                continue
            done.recorded.update(recorded)
            for kind in recorded:
                log.info("concern %s: %s", concern_id, kind)
        return done

    # -- the loop --------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Sweep every interval until `stop` is set; the concern in hand is finished first."""
        session = open_session(self.app, self.outage, listen=False, on_lost=self._lost)
        next_election = 0.0
        try:
            while not stop.is_set():
                if not self.outage.ready(stop, session.ping):
                    continue
                if not self.leading:
                    if time.monotonic() >= next_election:
                        self.leading = session.try_lock(LEADER_KEY)
                        next_election = time.monotonic() + self.config.standby_retry_seconds
                        if self.leading:
                            log.info("leading the deadline watcher")
                    if not self.leading:
                        stop.wait(min(self.config.standby_retry_seconds, 0.5))
                        continue
                try:
                    self.last_sweep = self.sweep(stop)
                    self.last_error = None
                    self.outage.recovered()
                except Exception as exc:  # keep the worker alive: the database may be away
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    if unavailable(exc):  # logged once per outage, retried with backoff
                        self.outage.failed(exc)
                        continue
                    log.exception("deadline sweep failed; trying again at the next one")
                with self.swept:
                    self.sweeps += 1
                    self.swept.notify_all()
                # On PostgreSQL the wait also notices a lost connection (and leadership).
                session.wait(self.config.interval_seconds, stop)
        finally:
            session.close()
            self.leading = not self.leader_election

    def _lost(self) -> None:
        if self.leader_election:
            self.leading = False  # the advisory lock died with the session's connection

    def wait_for_sweeps(self, count: int, timeout: float) -> bool:
        """Wait until `count` sweeps have finished in all (or `timeout` seconds pass)."""
        with self.swept:
            return self.swept.wait_for(lambda: self.sweeps >= count, timeout)

    def start(self) -> None:
        """Run in a background thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="minqing-deadlines", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread after the concern in hand."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


# -- entry points ------------------------------------------------------------------------------


def embedded_watcher(app: Minqing, settings: Settings) -> DeadlineWatcher:
    """The API process's watcher; `start()` runs it."""
    return DeadlineWatcher(app, WatcherConfig.from_settings(settings))


def run_worker(settings: Settings, *, once: bool = False) -> int:
    """`minqing worker deadlines`: sweep until SIGTERM/SIGINT (standby if another leads),
    waiting for the database while it is unavailable; or sweep once and exit with `once`."""
    logging.basicConfig(level=logging.INFO, format="minqing worker: %(message)s")
    config = WatcherConfig.from_settings(settings)
    if once:
        one_off = open_minqing(settings)
        try:
            done = DeadlineWatcher(one_off, config).sweep()
        finally:
            one_off.close()
        facts = ", ".join(f"{n} {kind}" for kind, n in sorted(done.recorded.items()))
        print(f"minqing worker: checked {done.checked}, recorded {facts or 'nothing'}")
        return 1 if done.failed else 0
    stop = threading.Event()

    def request_stop(signum: int, _: object) -> None:
        # Graceful: the concern in hand is finished before the loop ends.
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    # From the start: a stop while waiting for the database is graceful too.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    outage = Outage("deadline watcher", log)
    app = open_when_ready(settings, stop, outage)
    if app is None:
        log.info("deadline watcher stopped before the database answered")
        return 0
    try:
        watcher = DeadlineWatcher(app, config, outage)
        how = "one leader, others standby" if watcher.leader_election else "no leader election"
        log.info(
            "deadline watcher: every %g s, feedback window %d days (%s)",
            config.interval_seconds,
            config.feedback_window_days,
            how,
        )
        watcher.run(stop)
        log.info("deadline watcher stopped after %d sweeps", watcher.sweeps)
    finally:
        app.close()
    return 0
