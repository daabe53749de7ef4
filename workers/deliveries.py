"""Delivering the webhook outbox (Standard Webhooks): one attempt per queue head, signed,
its outcome recorded, the next attempt scheduled.

Each attempt POSTs the CloudEvent (rendered again by the pull feed's own mapping, so a
webhook body is the very object the feed shows) with `webhook-id` (= the CloudEvents id,
the same on every retry), `webhook-timestamp` and `webhook-signature`. A row is marked
delivered only after a 2xx answer, so delivery is at least once: a receiver deduplicates on
webhook-id. A failed attempt (non-2xx, 3xx included, or no answer within the timeout) is
retried on the schedule (the spec's: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h;
each delay with ±10 % jitter), never sooner than the receiver's `Retry-After`; after the
last attempt the row is *parked*. A 410 Gone disables the subscription. The dispatcher
(workers/webhooks.py) chooses what to send and when.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters import instruments
from adapters.availability import unavailable
from adapters.feed import EventFeed
from adapters.outage import Outage
from adapters.webhooks import (
    DEFAULT_SCHEDULE,
    ROTATION_GRACE_SECONDS,
    Attempt,
    DeliveryStatus,
    Due,
    Webhooks,
    check_url,
    signature_header,
)
from application.minqing import Minqing
from application.settings import Settings
from domain import cloudevents
from domain.errors import Invalid

log = logging.getLogger("minqing.webhooks")

BATCH_SIZE = 500
POLL_SECONDS = 0.2  # SQLite: how often to look for new events
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


class Deliveries:
    """Makes and records delivery attempts; safe to call from several threads at once."""

    def __init__(
        self,
        app: Minqing,
        config: DispatcherConfig,
        webhooks: Webhooks,
        outage: Outage,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.app = app
        self.config = config
        self.webhooks = webhooks
        self.outage = outage
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
        # The log topics of every published event.
        self.feed_topics = cloudevents.topics_for()
        self._keys: dict[str, tuple[float, str, list[bytes]]] = {}
        self._checked: dict[str, float] = {}
        self._bodies: dict[int, bytes] = {}
        self._cache_lock = threading.Lock()

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
            body = self.body(due.position)
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
        _observe(attempt)
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

    def prefetch(self, positions: list[int]) -> None:
        # One range read renders the bodies of a whole round of deliveries, instead of one
        # query per delivery; skipped when the positions lie too far apart.
        with self._cache_lock:
            missing = sorted(p for p in set(positions) if p not in self._bodies)
        if not missing or missing[-1] - missing[0] > 4 * len(missing) + 100:
            return
        found = self.app.recorder.select_notifications(
            missing[0], missing[-1] - missing[0] + 1, stop=missing[-1], topics=self.feed_topics
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

    def body(self, position: int) -> bytes:
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


def _json(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def _observe(attempt: Attempt) -> None:
    """Count one attempt for /metrics: delivered (2xx), gone (410) or failed, and its time."""
    code = attempt.status_code
    if code is not None and 200 <= code < 300:
        outcome = "delivered"
    elif code == 410:
        outcome = "gone"
    else:
        outcome = "failed"
    instruments.WEBHOOK_ATTEMPTS.labels(outcome).inc()
    instruments.WEBHOOK_DELIVERY_SECONDS.labels(outcome).observe(attempt.duration_ms / 1000)
