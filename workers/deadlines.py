"""The deadline watcher: records `DeadlineMissed`, `FeedbackOverdue` and `StageMissed` (an
open stage past its time limit on the work calendar, docs/time-limits.md) when they fall due,
issues the automatic supervision cards (督办: yellow, then red), resumes a suspension (挂账) at
its until date (`Resumed`, automatic) and records the hotspots that appeared (the hotspot
read model's, with their proactive concern: once each). A suspended concern gets none of the
facts: its clock has stopped.

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
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from adapters import json_logs
from adapters.outage import Outage, unavailable
from adapters.service import Leadership, LeadingService
from adapters.sessions import advisory_key, open_session
from application.bootstrap import open_minqing
from application.hotspots import FoundHotspot
from application.minqing import Minqing
from application.settings import Settings
from projections.concern_watch import (
    WATCH_PAGE,
    card_stages,
    deadline_candidates,
    open_stages,
    suspensions_due,
)
from projections.concerns import TABLE as CONCERN_LIST
from projections.concerns import card_mark
from projections.hotspots import unrecorded
from workers.process import run_service

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
    """What one sweep did: concerns looked at for their facts (due dates and feedback; the
    walks for missed stages and cards are not counted), facts recorded by kind (cards as
    `yellow_card`, `red_card`), concerns that failed."""

    checked: int = 0
    recorded: Counter[str] = field(default_factory=Counter)
    failed: int = 0


class DeadlineWatcher(LeadingService):
    """Records missed due dates and overdue feedback; in a thread or in the foreground."""

    thread_name = "minqing-deadlines"

    def __init__(
        self, app: Minqing, config: WatcherConfig | None = None, outage: Outage | None = None
    ) -> None:
        super().__init__(outage or Outage("deadline watcher", log), log)
        self.app = app
        self.config = config or WatcherConfig()
        self.leadership = Leadership(
            {"the deadline watcher": LEADER_KEY},
            election=self.config.leader_election and app.db.dialect.shared,
            retry_seconds=self.config.standby_retry_seconds,
            log=log,
        )
        self.last_sweep: Sweep | None = None
        # Set after every finished sweep (tests and the CLI wait on it).
        self.swept = threading.Condition()
        self.sweeps = 0

    def sweep(self, stop: threading.Event | None = None) -> Sweep:
        """Record every fact due now, concern by concern; stops early when `stop` is set."""
        done = Sweep()
        window = self.config.feedback_window_days
        now = self.app.clock()
        # First the suspensions that end: their due dates move before they are judged.
        self._resumes(done, now, stop)
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
        self._stages(done, now, stop)
        self._cards(done, stop)
        self._hotspots(done, now, stop)
        return done

    def _resumes(self, done: Sweep, now: datetime, stop: threading.Event | None) -> None:
        # Suspensions whose until date has come, resumed (once) on the aggregate.
        for concern_id in suspensions_due(self.app.db, now.date(), self.config.page_size):
            if stop is not None and stop.is_set():
                return
            try:
                recorded = self.app.resume_if_due(UUID(concern_id))
            except Exception as exc:
                if unavailable(exc):
                    raise
                done.failed += 1
                log.exception("resuming the suspension of concern %s failed", concern_id)
                continue
            done.recorded.update(recorded)

    def _hotspots(self, done: Sweep, now: datetime, stop: threading.Event | None) -> None:
        # Hotspots whose window is open and not recorded yet (the read model's word), each
        # recorded once with its proactive concern (decided by the store: docs/patterns.md).
        for item in unrecorded(self.app.db, now):
            if stop is not None and stop.is_set():
                return
            found = FoundHotspot(
                grid=item["grid"],
                kind="place" if "place" in item else "cell",
                where=item.get("place") or item["cell"],
                category=item["category"],
                starts=datetime.fromisoformat(item["starts"]),
                ends=datetime.fromisoformat(item["ends"]),
                concern_ids=tuple(item["concern_ids"]),
                days=item["days"],
                high_incidence=item["high_incidence"],
            )
            try:
                made = self.app.record_hotspot(found)
            except Exception as exc:
                if unavailable(exc):
                    raise
                done.failed += 1
                log.exception("recording hotspot %s failed", item["id"])
                continue
            if made is not None:
                done.recorded["hotspot"] += 1
                log.info("hotspot %s: proactive concern %s", item["id"], made)

    def _cards(self, done: Sweep, stop: threading.Event | None) -> None:
        # Supervision cards (督办): yellow past the yellow threshold, red past the red one,
        # chosen from the list's row and issued (once each) on the aggregate.
        stage_of = self.app.row_stage_reader()
        for row in card_stages(self.app.db, self.config.page_size):
            if stop is not None and stop.is_set():
                return
            stage = stage_of(row)
            if stage is None or stage["colour"] == "green" or stage["suspended"]:
                continue
            if stage["colour"] == "yellow" and row["card_mark"] == card_mark(
                row["stage_since"], "yellow"
            ):
                continue
            try:
                recorded = self.app.record_cards(UUID(str(row["id"])))
            except Exception as exc:
                if unavailable(exc):
                    raise
                done.failed += 1
                log.exception("issuing the supervision cards of concern %s failed", row["id"])
                continue
            done.recorded.update(recorded)

    def _stages(self, done: Sweep, now: datetime, stop: threading.Event | None) -> None:
        # Open stages past their limit on the work calendar: computed from the list's row,
        # then decided (and recorded once) on the aggregate, as the facts above.
        stage_of = self.app.row_stage_reader()
        for row in open_stages(self.app.db, self.config.page_size):
            if stop is not None and stop.is_set():
                return
            stage = stage_of(row)
            if stage is None or datetime.fromisoformat(stage["deadline"]) >= now:
                continue
            try:
                recorded = self.app.record_missed_stage(UUID(str(row["id"])))
            except Exception as exc:
                if unavailable(exc):
                    raise
                done.failed += 1
                log.exception("recording the missed stage of concern %s failed", row["id"])
                continue
            done.recorded.update(recorded)

    def run(self, stop: threading.Event) -> None:
        """Sweep every interval until `stop` is set; the concern in hand is finished first."""
        session = open_session(self.app, self.outage, listen=False, on_lost=self.leadership.lost)
        try:
            while not stop.is_set():
                if not self.outage.ready(stop, session.ping):
                    continue
                if not self.leadership.elect(session):
                    stop.wait(min(self.config.standby_retry_seconds, 0.5))
                    continue
                swept = self.attempt(
                    lambda: self.sweep(stop),
                    stop,
                    "deadline sweep failed; trying again at the next one",
                )
                if swept.outage:
                    continue  # waited out (and probed) by `ready`
                if swept.result is not None:
                    self.last_sweep = swept.result
                with self.swept:
                    self.sweeps += 1
                    self.swept.notify_all()
                # On PostgreSQL the wait also notices a lost connection (and leadership).
                session.wait(self.config.interval_seconds, stop)
        finally:
            session.close()
            self.leadership.reset()

    def wait_for_sweeps(self, count: int, timeout: float) -> bool:
        """Wait until `count` sweeps have finished in all (or `timeout` seconds pass)."""
        with self.swept:
            return self.swept.wait_for(lambda: self.sweeps >= count, timeout)


# -- entry points ------------------------------------------------------------------------------


def embedded_watcher(app: Minqing, settings: Settings) -> DeadlineWatcher:
    """The API process's watcher; `start()` runs it."""
    return DeadlineWatcher(app, WatcherConfig.from_settings(settings))


def run_worker(settings: Settings, *, once: bool = False) -> int:
    """`minqing worker deadlines`: sweep until SIGTERM/SIGINT (standby if another leads),
    waiting for the database while it is unavailable; or sweep once and exit with `once`."""
    config = WatcherConfig.from_settings(settings)
    if once:
        json_logs.configure()  # one JSON object per line, like `minqing serve`
        one_off = open_minqing(settings)
        try:
            # The sweep reads the concern list: on a database nobody initialised, say what
            # to do rather than fail with the driver's "no such table".
            if not one_off.db.table_exists(CONCERN_LIST):
                print(
                    "minqing worker: the read models' tables are missing on this database;"
                    " run `minqing db init` first",
                    file=sys.stderr,
                )
                return 2
            done = DeadlineWatcher(one_off, config).sweep()
        finally:
            one_off.close()
        facts = ", ".join(f"{n} {kind}" for kind, n in sorted(done.recorded.items()))
        print(f"minqing worker: checked {done.checked}, recorded {facts or 'nothing'}")
        return 1 if done.failed else 0

    def started(watcher: DeadlineWatcher) -> None:
        how = "one leader, others standby" if watcher.leader_election else "no leader election"
        log.info(
            "deadline watcher: every %g s, feedback window %d days (%s)",
            config.interval_seconds,
            config.feedback_window_days,
            how,
        )

    return run_service(
        "deadline watcher",
        settings,
        log,
        lambda app, outage: DeadlineWatcher(app, config, outage),
        started=started,
        stopped=lambda w: log.info("deadline watcher stopped after %d sweeps", w.sweeps),
    )
