"""The webhook dispatcher: follows the event log into the outbox, and delivers the outbox.

Following: like a projection, the dispatcher reads the published events after its position,
writes one outbox row per matching subscription and moves its position in the same
transaction (adapters/webhooks/), so a crash never skips or doubles an event.

Delivering (workers/deliveries.py): per subscription, only the head of each subject's queue
(the earliest pending row of that concern or meeting) is ever sent, so one subject's events
arrive in order while other subjects go on; several heads are sent at once by a small
thread pool. One poison message must not stall a concern forever: after the last attempt
a row is parked and the subject's later events go on. `POST /api/v1/webhooks/{id}/replay`
with `{"parked": true}` sends parked rows again. A disabled subscription is paused, not
forgotten: its events are still queued, and are sent in order once it is enabled again.

One dispatcher delivers at a time: on PostgreSQL the leader holds an advisory lock on a
connection of its own (which also LISTENs for new events), and others wait as standby; on
SQLite one process (the API's embedded thread, or `minqing worker webhooks`) runs it. While
the database is unavailable (also when the worker starts) it waits with backoff and logs the
outage once; an attempt it could not record is sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from adapters.availability import unavailable
from adapters.outage import Outage
from adapters.service import Leadership, LeadingService
from adapters.sessions import open_session
from adapters.webhooks import DeliveryStatus, Due, Webhooks, lock_key
from application.minqing import Minqing
from application.settings import Settings
from workers.deliveries import (
    Deliveries,
    DispatcherConfig,
    parse_schedule,
    retry_after_seconds,
)
from workers.process import run_service

# Tests and tools import these from here, as they always have.
__all__ = [
    "Dispatcher",
    "DispatcherConfig",
    "embedded_dispatcher",
    "parse_schedule",
    "retry_after_seconds",
    "run_worker",
]

log = logging.getLogger("minqing.webhooks")

PG_FALLBACK_POLL_SECONDS = 1.0  # PostgreSQL wakes on NOTIFY; this covers a lost one
STANDBY_RETRY_SECONDS = 2.0
ERROR_BACKOFF_SECONDS = 1.0
# With deliveries in flight the loop looks again at least this often (and at once when
# one finishes), so a queue's next event goes out as soon as its predecessor is done.
MIN_WAIT_SECONDS = 0.05


class Dispatcher(LeadingService):
    """Follows the log into the outbox and delivers it; in a thread or in the foreground."""

    thread_name = "minqing-webhooks"
    stop_timeout = 20.0

    def __init__(
        self,
        app: Minqing,
        config: DispatcherConfig | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        outage: Outage | None = None,
    ) -> None:
        super().__init__(outage or Outage("webhook dispatcher", log), log)
        self.app = app
        self.config = config = config or DispatcherConfig()
        if config.concurrency < 1:
            msg = "MINQING_WEBHOOKS_CONCURRENCY must be at least 1"
            raise ValueError(msg)
        self.webhooks = Webhooks(
            app, allow_private=config.allow_private, rotation_grace=config.rotation_grace
        )
        self.deliveries = Deliveries(app, config, self.webhooks, self.outage, transport)
        self.leadership = Leadership(
            {"the webhook dispatcher": lock_key()},
            election=config.leader_election and app.db.dialect.shared,
            retry_seconds=STANDBY_RETRY_SECONDS,
            log=log,
        )
        # How often to look at the log and the outbox when nothing wakes the loop: on
        # PostgreSQL a NOTIFY wakes it for new events, so the fallback can be slow.
        self._poll = PG_FALLBACK_POLL_SECONDS if app.db.dialect.shared else config.poll_seconds
        self._kick = threading.Event()

    @property
    def client(self) -> httpx.Client:
        """The HTTP client deliveries go through."""
        return self.deliveries.client

    # -- following the log -------------------------------------------------------------------

    def follow_once(self) -> int:
        """Queue one batch of new events; how many log positions the dispatcher moved."""
        start = self.webhooks.position()
        head = int(self.app.recorder.max_notification_id() or 0)
        if start >= head:
            return 0
        # With no subscription there is nothing to read: the position jumps to the head
        # (enqueue refuses, and we read after all, if a subscription appeared meanwhile).
        complete = self.webhooks.has_subscriptions()
        for _ in range(2):
            batch, end = self._read(start, head) if complete else ([], head)
            if self.webhooks.enqueue(start, end, batch, complete=complete) is not None:
                if batch:
                    self._kick.set()
                return end - start
            complete = True
            start = self.webhooks.position()
            if start >= head:
                return 0
        return 0

    def _read(self, after: int, upto: int) -> tuple[list[Any], int]:
        batch = list(
            self.app.recorder.select_notifications(
                after,
                self.config.batch_size,
                stop=upto,
                topics=self.deliveries.feed_topics,
                inclusive_of_start=False,
            )
        )
        # A short batch means nothing published lies between its end and `upto`: with the
        # insert-order lock every position below the head is committed or burned.
        end = int(batch[-1].id) if len(batch) == self.config.batch_size else upto
        return batch, end

    # -- delivering --------------------------------------------------------------------------

    def deliver(self, due: Due) -> DeliveryStatus:
        """Make one attempt and record it; the row's status afterwards."""
        return self.deliveries.deliver(due)

    def deliver_due(self) -> int:
        """Send every queue head due now, one round, in this thread (tests and tools);
        how many attempts were made."""
        rows = self.webhooks.due(time.time(), self.config.concurrency * 50)
        for due in rows:
            self.deliver(due)
        return len(rows)

    def _submit(
        self, pool: ThreadPoolExecutor, inflight: dict[tuple[str, str], Future[DeliveryStatus]]
    ) -> int:
        room = self.config.concurrency * 2 - len(inflight)
        if room <= 0:
            return 0
        submitted = 0
        # In-flight heads are still pending, so ask for enough rows to see past them.
        rows = [
            due
            for due in self.webhooks.due(time.time(), room + len(inflight))
            if due.queue not in inflight  # its subject's previous attempt is under way
        ][:room]
        try:
            self.deliveries.prefetch([due.position for due in rows])
        except Exception as exc:  # each delivery reads its own body then, and records a failure
            if not unavailable(exc):
                log.exception("reading the events of a round of deliveries failed")
        for due in rows:
            future = pool.submit(self.deliver, due)
            future.add_done_callback(lambda _: self._kick.set())
            inflight[due.queue] = future
            submitted += 1
        return submitted

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Follow and deliver until `stop` is set; deliveries under way finish first."""
        session = open_session(self.app, self.outage, on_lost=self.leadership.lost)
        pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="minqing-webhook")
        inflight: dict[tuple[str, str], Future[DeliveryStatus]] = {}
        follow_at = 0.0  # when to look at the log next

        def one_round() -> tuple[int, int, float]:
            nonlocal follow_at, inflight
            moved = 0
            if time.monotonic() >= follow_at:
                moved = self.follow_once()
                # Catching up: read on at once; else at the next poll (or NOTIFY).
                follow_at = 0.0 if moved else time.monotonic() + self._poll
            inflight = {k: f for k, f in inflight.items() if not f.done()}
            submitted = self._submit(pool, inflight)
            wait = 0.0 if moved or submitted else self._wait_seconds(inflight)
            return moved, submitted, wait

        try:
            while not stop.is_set():
                if not self.outage.ready(stop, session.ping):
                    continue
                if not self.leadership.elect(session):
                    stop.wait(min(STANDBY_RETRY_SECONDS, 0.5))
                    continue
                self._kick.clear()
                failed = "webhook dispatcher round failed; retrying"
                done = self.attempt(one_round, stop, failed, ERROR_BACKOFF_SECONDS)
                if done.result is None:
                    continue
                moved, submitted, wait = done.result
                if moved or submitted:
                    continue
                if session.wait(wait, stop, self._kick):
                    follow_at = 0.0  # new events were committed
        finally:
            # Let the attempts under way finish and be recorded (each bounded by the
            # timeout); a kill instead leaves them pending, to be sent again.
            pool.shutdown(wait=True)
            session.close()
            self.leadership.reset()

    def _wait_seconds(self, inflight: dict[tuple[str, str], Future[DeliveryStatus]]) -> float:
        longest = self._poll
        due_at = self.webhooks.next_due_at()
        if due_at is not None:
            longest = min(longest, due_at - time.time())
        if inflight:
            # A head in flight is still pending and "due": do not spin on it.
            return max(MIN_WAIT_SECONDS, longest)
        return max(0.0, longest)

    def kick(self) -> None:
        """Look at the outbox now (after a replay or a new subscription in this process)."""
        self._kick.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the background thread (after the attempts under way) and close the client."""
        self._kick.set()
        super().stop(timeout)
        self.close()

    def close(self) -> None:
        """Close the HTTP client."""
        self.deliveries.client.close()


# -- entry points ------------------------------------------------------------------------------


def embedded_dispatcher(app: Minqing, settings: Settings) -> Dispatcher:
    """The API process's dispatcher (it also makes the tables); `start()` runs it."""
    return Dispatcher(app, DispatcherConfig.from_settings(settings))


def run_worker(settings: Settings, stop: threading.Event | None = None) -> int:
    """`minqing worker webhooks`: dispatch until SIGTERM/SIGINT (standby if another leads),
    waiting for the database while it is unavailable."""
    config = DispatcherConfig.from_settings(settings)
    return run_service(
        "webhook dispatcher",
        settings,
        log,
        lambda app, outage: Dispatcher(app, config, outage=outage),
        started=lambda d: log.info(
            "webhook dispatcher following from position %s", d.webhooks.position()
        ),
        stopped=lambda _: log.info("webhook dispatcher stopped"),
        stop=stop,
    )
