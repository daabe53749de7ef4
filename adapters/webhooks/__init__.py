"""Webhook subscriptions and their delivery outbox, per the Standard Webhooks spec.

Four side tables, the same SQL on SQLite and PostgreSQL:

- `minqing_webhooks`: one row per subscription — target URL, CloudEvents types to send
  (empty: every published type), the signing secret encrypted with the master key, the
  previous secret while a rotation's grace period runs, status (`active`; `disabled`, i.e.
  paused: events are still queued, and sent once it is active again; `deleted`), and
  `start_after`, the log position after which it receives events.
- `minqing_webhook_deliveries`: the outbox — one row per (subscription, log position),
  with its state (`pending`, `delivered`, `parked`, `cancelled`), attempts and schedule.
- `minqing_webhook_attempts`: every attempt made (status code or error, duration).
- `minqing_webhook_positions`: how far the dispatcher has followed the event log.

The dispatcher (workers/webhooks.py) writes outbox rows and its new position in one
transaction, so a crash never skips or doubles an event; it marks a row delivered only after
a 2xx answer, so every event is delivered at least once. Bodies are not stored: each attempt
renders the event again with `domain.cloudevents.to_cloudevent`, which gives the same object
every time (and never a resident's personal data).

No framework here: HTTP and the retry policy live in the worker, this module keeps state.
"""

from __future__ import annotations

from adapters.webhooks.outbox import Outbox
from adapters.webhooks.signing import (
    MAX_SECRET_BYTES,
    MIN_SECRET_BYTES,
    SECRET_PREFIX,
    new_secret,
    secret_key,
    sign,
    signature_header,
)
from adapters.webhooks.subscriptions import Subscriptions, check_types
from adapters.webhooks.tables import (
    ATTEMPTS_TABLE,
    DEFAULT_SCHEDULE,
    DELIVERIES_TABLE,
    DISPATCHER,
    MAX_DESCRIPTION_LENGTH,
    MAX_REPLAY_SPAN,
    POSITIONS_TABLE,
    ROTATION_GRACE_SECONDS,
    SUBSCRIPTIONS_TABLE,
    Attempt,
    Backlog,
    DeliveryPage,
    DeliveryStatus,
    Due,
    Status,
    Subscription,
    lock_key,
)
from adapters.webhooks.targets import MAX_URL_LENGTH, Resolver, check_url, resolve


class Webhooks(Subscriptions, Outbox):
    """Subscriptions, the outbox and the dispatcher's position, on the application's database."""


__all__ = [
    "ATTEMPTS_TABLE",
    "DEFAULT_SCHEDULE",
    "DELIVERIES_TABLE",
    "DISPATCHER",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_REPLAY_SPAN",
    "MAX_SECRET_BYTES",
    "MAX_URL_LENGTH",
    "MIN_SECRET_BYTES",
    "POSITIONS_TABLE",
    "ROTATION_GRACE_SECONDS",
    "SECRET_PREFIX",
    "SUBSCRIPTIONS_TABLE",
    "Attempt",
    "Backlog",
    "DeliveryPage",
    "DeliveryStatus",
    "Due",
    "Resolver",
    "Status",
    "Subscription",
    "Webhooks",
    "check_types",
    "check_url",
    "lock_key",
    "new_secret",
    "resolve",
    "secret_key",
    "sign",
    "signature_header",
]
