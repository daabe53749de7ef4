"""The webhook dispatcher: follows the event log into the outbox, and delivers the outbox.

Following: like a projection, the dispatcher reads the published events after its position,
writes one outbox row per matching subscription and moves its position in the same
transaction (domain/webhooks.py), so a crash never skips or doubles an event.

Delivering (Standard Webhooks): each attempt POSTs the CloudEvent (rendered again by
`to_cloudevent`, the pull feed's own mapping) with `webhook-id` (= the CloudEvents id, the
same on every retry), `webhook-timestamp` and `webhook-signature`. A row is marked delivered
only after a 2xx answer, so delivery is at least once: a receiver deduplicates on
webhook-id. Per subscription, only the head of each subject's queue (the earliest pending
row of that concern or meeting) is ever sent, so one subject's events arrive in order while
other subjects go on; several heads are sent at once by a small thread pool.

A failed attempt (non-2xx, 3xx included, or no answer within the timeout) is retried on the
schedule (the spec's: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; each delay
with ±10 % jitter), never sooner than the receiver's `Retry-After`. After the last attempt
the row is *parked* and the subject's later events go on: one poison message must not stall
a concern forever. `POST /api/v1/webhooks/{id}/replay` with `{"parked": true}` sends parked
rows again. A 410 Gone disables the subscription. A disabled subscription is paused, not
forgotten: its events are still queued, and are sent in order once it is enabled again
(delete it to stop that).

One dispatcher delivers at a time: on PostgreSQL the leader holds an advisory lock on a
connection of its own (which also LISTENs for new events), and others wait as standby; on
SQLite one process (the API's embedded thread, or `minqing worker webhooks`) runs it. While
the database is unavailable (also when the worker starts) it waits with backoff and logs the
outage once; an attempt it could not record is sent again.
"""

from __future__ import annotations

import json
import logging
import random
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters.feed import EventFeed
from adapters.outage import Outage, patiently, unavailable
from adapters.sessions import Session, open_session, probe
from adapters.webhooks import (
    DEFAULT_SCHEDULE,
    ROTATION_GRACE_SECONDS,
    Attempt,
    DeliveryStatus,
    Due,
    Webhooks,
    check_url,
    lock_key,
    signature_header,
)
from application.bootstrap import open_when_ready
from application.minqing import Minqing
from application.settings import Settings
from domain import cloudevents
from domain.errors import Invalid

log = logging.getLogger("minqing.webhooks")

BATCH_SIZE = 500
POLL_SECONDS = 0.2  # SQLite: how often to look for new events
PG_FALLBACK_POLL_SECONDS = 1.0  # PostgreSQL wakes on NOTIFY; this covers a lost one
STANDBY_RETRY_SECONDS = 2.0
ERROR_BACKOFF_SECONDS = 1.0
# With deliveries in flight the loop looks again at least this often (and at once when
# one finishes), so a queue's next event goes out as soon as its predecessor is done.
MIN_WAIT_SECONDS = 0.05
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0
MAX_ERROR_LENGTH = 500
USER_AGENT = "Minqing-Webhooks/1"
_BODY_CACHE = 2048
# Signing keys are read from the database (and decrypted) once per subscription revision
# (a rotation makes a new one) and at least this often, for a previous key's expiry.
KEYS_TTL_SECONDS = 1.0
# A target URL found public is looked up again after this long (not at every attempt).
TARGET_CHECK_TTL_SECONDS = 30.0


def parse_schedule(text: str) -> tuple[float, ...]:
    """`"0,5,300"` -> (0.0, 5.0, 300.0): the delay before each attempt, first one first."""
    try:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        msg = f"MINQING_WEBHOOKS_RETRY_SCHEDULE: not a comma-separated list of seconds: {text!r}"
        raise ValueError(msg) from None
    if not delays or any(d < 0 for d in delays):
        msg = "MINQING_WEBHOOKS_RETRY_SCHEDULE: give at least one delay, none negative"
        raise ValueError(msg)
    return delays


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """The delay a `Retry-After` header asks for (seconds or an HTTP date), if any."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


@dataclass(frozen=True)
class DispatcherConfig:
    """How the dispatcher behaves; `from_settings` reads it from MINQING_* settings."""

    source: str = cloudevents.DEFAULT_SOURCE
    public_url: str = cloudevents.DEFAULT_PUBLIC_URL
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    timeout: float = 15.0
    allow_private: bool = False
    rotation_grace: float = ROTATION_GRACE_SECONDS
    concurrency: int = 8
    batch_size: int = BATCH_SIZE
    poll_seconds: float = POLL_SECONDS
    jitter: float = 0.1
    leader_election: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatcherConfig:
        """The configuration the API process and `minqing worker webhooks` share."""
        return cls(
            source=settings.event_source,
            public_url=settings.public_url,
            schedule=parse_schedule(settings.webhooks_retry_schedule),
            timeout=settings.webhooks_timeout_seconds,
            allow_private=settings.webhooks_allow_private,
            rotation_grace=settings.webhooks_secret_grace_hours * 3600,
            concurrency=settings.webhooks_concurrency,
        )


class Dispatcher:
    """Follows the log into the outbox and delivers it; in a thread or in the foreground."""

    def __init__(
        self,
        app: Minqing,
        config: DispatcherConfig | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        outage: Outage | None = None,
    ) -> None:
        self.app = app
        self.outage = outage or Outage("webhook dispatcher", log)
        self.config = config = config or DispatcherConfig()
        if config.concurrency < 1:
            msg = "MINQING_WEBHOOKS_CONCURRENCY must be at least 1"
            raise ValueError(msg)
        self.webhooks = Webhooks(
            app, allow_private=config.allow_private, rotation_grace=config.rotation_grace
        )
        # The pull feed's own rendering (and its cache of which meetings vote by secret
        # ballot): a webhook body is the very CloudEvent the feed shows.
        self.feed = EventFeed(app, config.source, config.public_url)
        self.client = httpx.Client(
            timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout)),
            follow_redirects=False,  # the spec counts a 3xx as a failure
            trust_env=False,  # never route deliveries through a proxy from the environment
            limits=httpx.Limits(
                max_connections=config.concurrency * 2,
                max_keepalive_connections=config.concurrency,
            ),
            headers={"user-agent": USER_AGENT},
            transport=transport,
        )
        self.leader_election = config.leader_election and app.db.dialect.shared
        # How often to look at the log and the outbox when nothing wakes the loop: on
        # PostgreSQL a NOTIFY wakes it for new events, so the fallback can be slow.
        self._poll = PG_FALLBACK_POLL_SECONDS if app.db.dialect.shared else config.poll_seconds
        self._keys: dict[str, tuple[float, str, list[bytes]]] = {}
        self._checked: dict[str, float] = {}
        self.leading = not self.leader_election
        self.last_error: str | None = None
        self._topics = cloudevents.topics_for()
        self._bodies: dict[int, bytes] = {}
        self._cache_lock = threading.Lock()
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
                topics=self._topics,
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
        now = time.time()
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            if not self.config.allow_private:
                self._check_target(due.url)
            body = self._body(due.position)
            keys = self._signing_keys(due)
            timestamp = int(time.time())
            response = self.client.post(
                due.url,
                content=body,
                headers={
                    "content-type": "application/json",
                    "webhook-id": due.event_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": signature_header(keys, due.event_id, timestamp, body),
                },
            )
            status_code = response.status_code
            retry_after = retry_after_seconds(response.headers.get("retry-after"), time.time())
        except Invalid as exc:
            error = f"refused: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # a bad row must count as a failed attempt, not loop
            if unavailable(exc):  # reading the event or the keys; the loop waits it out
                self.outage.failed(exc)
            else:
                log.exception("webhook %s position %d", due.subscription_id, due.position)
            error = f"{type(exc).__name__}: {exc}"
        attempt = Attempt(
            at=now,
            duration_ms=int((time.monotonic() - started) * 1000),
            status_code=status_code,
            error=error[:MAX_ERROR_LENGTH] if error else None,
        )
        try:
            return self._record(due, attempt, retry_after)
        except Exception as exc:  # the database is away: the row stays pending and is sent again
            if unavailable(exc):
                self.outage.failed(exc)
            else:
                log.exception("recording an attempt of webhook %s failed", due.subscription_id)
            return DeliveryStatus.PENDING

    def _record(self, due: Due, attempt: Attempt, retry_after: float | None) -> DeliveryStatus:
        code = attempt.status_code
        now = time.time()
        if code is not None and 200 <= code < 300:
            status, attempts, next_at, disable = (
                DeliveryStatus.DELIVERED,
                due.attempts + 1,
                now,
                None,
            )
        elif code == 410:
            # The receiver says the endpoint is gone for good: stop sending to it. The row
            # stays pending (without using up an attempt) for when it is enabled again.
            status, attempts, next_at = DeliveryStatus.PENDING, due.attempts, now
            disable = "the receiver answered 410 Gone"
        else:
            attempts, disable = due.attempts + 1, None
            schedule = self.config.schedule
            if attempts >= len(schedule):
                status, next_at = DeliveryStatus.PARKED, now
            else:
                delay = schedule[attempts] * random.uniform(  # noqa: S311 - jitter, not crypto
                    1 - self.config.jitter, 1 + self.config.jitter
                )
                if retry_after is not None:
                    delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
                status, next_at = DeliveryStatus.PENDING, now + delay
        stored = self.webhooks.record(
            due, attempt, status=status, attempts=attempts, next_attempt_at=next_at, disable=disable
        )
        if disable and stored:
            log.warning("webhook %s disabled: %s", due.subscription_id, disable)
        return status

    def _check_target(self, url: str) -> None:
        # Checked again when delivering, not only when subscribing: the host's addresses
        # may have changed since (a refusal is never cached).
        now = time.monotonic()
        with self._cache_lock:
            fresh = self._checked.get(url, 0.0) > now
        if not fresh:
            check_url(url, allow_private=False)
            with self._cache_lock:
                self._checked[url] = now + TARGET_CHECK_TTL_SECONDS

    def _signing_keys(self, due: Due) -> list[bytes]:
        now = time.monotonic()
        with self._cache_lock:
            cached = self._keys.get(due.subscription_id)
        if cached is not None and cached[0] > now and cached[1] == due.revision:
            return cached[2]
        keys = self.webhooks.signing_keys(due.subscription_id)
        with self._cache_lock:
            self._keys[due.subscription_id] = (now + KEYS_TTL_SECONDS, due.revision, keys)
        return keys

    def _prefetch(self, positions: list[int]) -> None:
        # One range read renders the bodies of a whole round of deliveries, instead of one
        # query per delivery; skipped when the positions lie too far apart.
        with self._cache_lock:
            missing = sorted(p for p in set(positions) if p not in self._bodies)
        if not missing or missing[-1] - missing[0] > 4 * len(missing) + 100:
            return
        found = self.app.recorder.select_notifications(
            missing[0], missing[-1] - missing[0] + 1, stop=missing[-1], topics=self._topics
        )
        wanted = set(missing)
        for n in found:
            if int(n.id) in wanted:
                self._render(n)

    def _render(self, n: Any) -> bytes:
        body = _json(self.feed.render(n))
        with self._cache_lock:
            if len(self._bodies) >= _BODY_CACHE:
                self._bodies.clear()
            self._bodies[int(n.id)] = body
        return body

    def _body(self, position: int) -> bytes:
        # Every subscription gets the same bytes for an event; render it once.
        with self._cache_lock:
            cached = self._bodies.get(position)
        if cached is not None:
            return cached
        found = list(self.app.recorder.select_notifications(position, 1, stop=position))
        if not found:
            msg = f"no event at position {position}"
            raise LookupError(msg)
        return self._render(found[0])

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
            self._prefetch([due.position for due in rows])
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
        session = self._session()
        pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="minqing-webhook")
        inflight: dict[tuple[str, str], Future[DeliveryStatus]] = {}
        next_election = 0.0
        follow_at = 0.0  # when to look at the log next
        try:
            while not stop.is_set():
                if not self.outage.ready(stop, session.ping):
                    continue
                if self.leader_election and not self.leading:
                    if time.monotonic() >= next_election:
                        self.leading = session.try_lock(lock_key())
                        next_election = time.monotonic() + STANDBY_RETRY_SECONDS
                        if self.leading:
                            log.info("leading the webhook dispatcher")
                    if not self.leading:
                        stop.wait(min(STANDBY_RETRY_SECONDS, 0.5))
                        continue
                self._kick.clear()
                try:
                    moved = 0
                    if time.monotonic() >= follow_at:
                        moved = self.follow_once()
                        # Catching up: read on at once; else at the next poll (or NOTIFY).
                        follow_at = 0.0 if moved else time.monotonic() + self._poll
                    inflight = {k: f for k, f in inflight.items() if not f.done()}
                    submitted = self._submit(pool, inflight)
                    wait = 0.0 if moved or submitted else self._wait_seconds(inflight)
                    self.last_error = None
                except Exception as exc:  # keep the worker alive: the database may be away
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    if unavailable(exc):  # logged once per outage, retried with backoff
                        self.outage.failed(exc)
                        continue
                    log.exception("webhook dispatcher round failed; retrying")
                    stop.wait(ERROR_BACKOFF_SECONDS)
                    continue
                self.outage.recovered()
                if moved or submitted:
                    continue
                if session.wait(wait, stop, self._kick):
                    follow_at = 0.0  # new events were committed
        finally:
            # Let the attempts under way finish and be recorded (each bounded by the
            # timeout); a kill instead leaves them pending, to be sent again.
            pool.shutdown(wait=True)
            session.close()
            self.leading = not self.leader_election

    def _wait_seconds(self, inflight: dict[tuple[str, str], Future[DeliveryStatus]]) -> float:
        longest = self._poll
        due_at = self.webhooks.next_due_at()
        if due_at is not None:
            longest = min(longest, due_at - time.time())
        if inflight:
            # A head in flight is still pending and "due": do not spin on it.
            return max(MIN_WAIT_SECONDS, longest)
        return max(0.0, longest)

    def _session(self) -> Session:
        return open_session(self.app, self.outage, on_lost=self._lost)

    def _lost(self) -> None:
        self.leading = False  # the advisory lock died with the session's connection

    def kick(self) -> None:
        """Look at the outbox now (after a replay or a new subscription in this process)."""
        self._kick.set()

    def start(self) -> None:
        """Run in a background thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="minqing-webhooks", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the background thread (after the attempts under way) and close the client."""
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.client.close()


def _json(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


# -- entry points ------------------------------------------------------------------------------


def embedded_dispatcher(app: Minqing, settings: Settings) -> Dispatcher:
    """The API process's dispatcher (it also makes the tables); `start()` runs it."""
    return Dispatcher(app, DispatcherConfig.from_settings(settings))


def run_worker(settings: Settings, stop: threading.Event | None = None) -> int:
    """`minqing worker webhooks`: dispatch until SIGTERM/SIGINT (standby if another leads),
    waiting for the database while it is unavailable."""
    logging.basicConfig(level=logging.INFO, format="minqing worker: %(message)s")
    config = DispatcherConfig.from_settings(settings)
    stop = stop or threading.Event()

    def request_stop(signum: int, _: object) -> None:
        # Graceful: attempts under way finish and are recorded before the process ends.
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    # From the start: a stop while waiting for the database is graceful too.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    outage = Outage("webhook dispatcher", log)
    app = open_when_ready(settings, stop, outage)
    if app is None:
        log.info("webhook dispatcher stopped before the database answered")
        return 0
    dispatcher: Dispatcher | None = None
    try:
        # Making the dispatcher makes the webhook tables: the database may be gone again.
        dispatcher = patiently(
            lambda: Dispatcher(app, config, outage=outage), stop, outage, lambda: probe(app.db)
        )
        if dispatcher is None:
            log.info("webhook dispatcher stopped before the database answered")
            return 0
        start = patiently(dispatcher.webhooks.position, stop, outage, lambda: probe(app.db))
        log.info("webhook dispatcher following from position %s", start)
        dispatcher.run(stop)
        log.info("webhook dispatcher stopped")
    finally:
        if dispatcher is not None:
            dispatcher.client.close()
        app.close()
    return 0
