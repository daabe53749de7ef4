"""The webhook tables, their rows as plain data, and the base of the store on them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from adapters.sessions import advisory_key
from adapters.webhooks.targets import Resolver, resolve
from application.minqing import Minqing
from domain.errors import NotFound
from domain.principal import Principal
from domain.vocabulary import Role

SUBSCRIPTIONS_TABLE = "minqing_webhooks"
DELIVERIES_TABLE = "minqing_webhook_deliveries"
ATTEMPTS_TABLE = "minqing_webhook_attempts"
POSITIONS_TABLE = "minqing_webhook_positions"
DISPATCHER = "dispatcher"
# The spec's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
ROTATION_GRACE_SECONDS = 24 * 3600.0
MAX_DESCRIPTION_LENGTH = 500
# A replay enqueues rows in the request; bigger spans are split by the caller.
MAX_REPLAY_SPAN = 100_000
REPLAY_BATCH = 500
INSERT_CHUNK = 100

Clock = Callable[[], float]


class Status(StrEnum):
    """A subscription's status."""

    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"


class DeliveryStatus(StrEnum):
    """An outbox row's status."""

    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"  # every attempt of the schedule failed; `replay` sends it again
    CANCELLED = "cancelled"  # the subscription was deleted before it was delivered


_DDL = (
    f"CREATE TABLE IF NOT EXISTS {SUBSCRIPTIONS_TABLE} ("
    " id TEXT PRIMARY KEY, url TEXT NOT NULL, event_types TEXT NOT NULL,"
    " description TEXT NOT NULL, secret TEXT NOT NULL, previous_secret TEXT,"
    " previous_secret_expires_at DOUBLE PRECISION, status TEXT NOT NULL,"
    " disabled_reason TEXT, start_after BIGINT NOT NULL, created_at TEXT NOT NULL,"
    " created_by TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT)",
    f"CREATE TABLE IF NOT EXISTS {DELIVERIES_TABLE} ("
    " subscription_id TEXT NOT NULL, position BIGINT NOT NULL, event_id TEXT NOT NULL,"
    " subject TEXT NOT NULL, event_type TEXT NOT NULL, status TEXT NOT NULL,"
    " attempts INTEGER NOT NULL, total_attempts INTEGER NOT NULL,"
    " next_attempt_at DOUBLE PRECISION NOT NULL, last_status_code INTEGER, last_error TEXT,"
    " last_attempt_at TEXT, delivered_at TEXT, parked_at TEXT, created_at TEXT NOT NULL,"
    " PRIMARY KEY (subscription_id, position))",
    # The per-subject ordering check ("is an earlier event of this subject still pending?").
    f"CREATE INDEX IF NOT EXISTS {DELIVERIES_TABLE}__subject"
    f" ON {DELIVERIES_TABLE} (subscription_id, subject, status, position)",
    f"CREATE INDEX IF NOT EXISTS {DELIVERIES_TABLE}__due"
    f" ON {DELIVERIES_TABLE} (status, next_attempt_at)",
    f"CREATE TABLE IF NOT EXISTS {ATTEMPTS_TABLE} ("
    " subscription_id TEXT NOT NULL, position BIGINT NOT NULL, attempt INTEGER NOT NULL,"
    " at TEXT NOT NULL, status_code INTEGER, error TEXT, duration_ms INTEGER NOT NULL,"
    " PRIMARY KEY (subscription_id, position, attempt))",
    f"CREATE TABLE IF NOT EXISTS {POSITIONS_TABLE} ("
    " name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
)

# The head of each (subscription, subject) queue: a pending row with no earlier pending row
# of the same subject. Only these may be sent, which keeps one subject's events in order.
QUEUE_HEAD = (
    f"d.status = 'pending' AND w.status = 'active' AND NOT EXISTS ("  # noqa: S608
    f" SELECT 1 FROM {DELIVERIES_TABLE} e WHERE e.subscription_id = d.subscription_id"
    " AND e.subject = d.subject AND e.status = 'pending' AND e.position < d.position)"
)


def iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


@dataclass(frozen=True)
class Subscription:
    """A webhook subscription as clients see it (never its secret)."""

    id: str
    url: str
    event_types: tuple[str, ...]
    description: str
    status: Status
    disabled_reason: str | None
    start_after: int
    created_at: str
    created_by: str
    updated_at: str
    previous_secret_expires_at: float | None

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        """Plain data for the API; the previous secret's expiry only while it is valid."""
        expires = self.previous_secret_expires_at
        if expires is not None and expires <= (time.time() if now is None else now):
            expires = None
        return {
            "id": self.id,
            "url": self.url,
            "event_types": list(self.event_types),
            "description": self.description,
            "status": self.status.value,
            "disabled_reason": self.disabled_reason,
            "start_after": self.start_after,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "previous_secret_expires_at": iso(expires),
        }


def subscription_of(row: Any) -> Subscription:
    expires = row["previous_secret_expires_at"]
    return Subscription(
        id=str(row["id"]),
        url=str(row["url"]),
        event_types=tuple(json.loads(row["event_types"])),
        description=str(row["description"]),
        status=Status(row["status"]),
        disabled_reason=row["disabled_reason"],
        start_after=int(row["start_after"]),
        created_at=str(row["created_at"]),
        created_by=str(row["created_by"]),
        updated_at=str(row["updated_at"]),
        previous_secret_expires_at=float(expires) if expires is not None else None,
    )


@dataclass(frozen=True)
class Due:
    """An outbox row ready to be sent: the head of its subject's queue, due now."""

    subscription_id: str
    url: str
    position: int
    event_id: str
    subject: str
    event_type: str
    attempts: int
    total_attempts: int
    # The subscription's updated_at: changes on every rotation, so cached keys can follow.
    revision: str = ""

    @property
    def queue(self) -> tuple[str, str]:
        """The ordered queue it belongs to: (subscription, subject)."""
        return (self.subscription_id, self.subject)


@dataclass(frozen=True)
class Attempt:
    """What one attempt to deliver came to."""

    at: float
    duration_ms: int
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Backlog:
    """The dispatcher's lag: how far it has followed the log, and what is still to send."""

    position: int  # the last log position queued for delivery
    head: int  # the log's head
    undelivered: int  # pending messages of active subscriptions
    paused: int  # pending messages of disabled subscriptions
    parked: int  # messages that used up every retry (sent again only by a replay)
    oldest_undelivered_at: str | None  # when the oldest pending message was queued
    oldest_undelivered_age_seconds: float | None

    @property
    def lag(self) -> int:
        """Log positions the dispatcher has not yet queued (gaps count too)."""
        return max(0, self.head - self.position)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for /readyz."""
        age = self.oldest_undelivered_age_seconds
        return {
            "position": self.position,
            "head": self.head,
            "lag": self.lag,
            "undelivered": self.undelivered,
            "paused": self.paused,
            "parked": self.parked,
            "oldest_undelivered_at": self.oldest_undelivered_at,
            "oldest_undelivered_age_seconds": None if age is None else round(age, 3),
        }


@dataclass(frozen=True)
class DeliveryPage:
    """Some of a subscription's deliveries, with counts by status and a cursor."""

    deliveries: list[dict[str, Any]]
    counts: dict[str, int]
    next_after: int | None


SELECT_SUBSCRIPTION = (
    "SELECT id, url, event_types, description, status, disabled_reason, start_after,"  # noqa: S608
    " created_at, created_by, updated_at, previous_secret_expires_at"
    f" FROM {SUBSCRIPTIONS_TABLE}"
)


def sees(principal: Principal | None, sub: Subscription) -> bool:
    # Integrators manage their own subscriptions; admins (and internal callers) see all.
    return principal is None or Role.ADMIN in principal.roles or sub.created_by == principal.id


class WebhookStore:
    """The webhook tables on the application's database (made, with the dispatcher's
    position row, when the store is made)."""

    def __init__(
        self,
        app: Minqing,
        *,
        allow_private: bool = False,
        rotation_grace: float = ROTATION_GRACE_SECONDS,
        clock: Clock = time.time,
        resolver: Resolver = resolve,
    ) -> None:
        self.app = app
        self.db = app.db
        self.allow_private = allow_private
        self.rotation_grace = rotation_grace
        self.clock = clock
        self.resolver = resolver
        self.setup()

    def setup(self) -> None:
        """Create the tables and the dispatcher's position row (idempotent)."""
        with self.db.transaction() as cur:
            # Two processes starting together would race on CREATE TABLE IF NOT EXISTS.
            cur.lock(_lock_key("setup"))
            for statement in _DDL:
                cur.execute(statement)
            cur.execute(
                f"INSERT INTO {POSITIONS_TABLE} (name, position) VALUES (?, 0)"  # noqa: S608
                " ON CONFLICT (name) DO NOTHING",
                (DISPATCHER,),
            )

    # -- subscriptions ---------------------------------------------------------------------

    def get(self, sub_id: str, principal: Principal | None = None) -> Subscription:
        """A subscription that is not deleted; NotFound when the caller may not see it."""
        sub = self._find(sub_id)
        if sub is None or sub.status is Status.DELETED or not sees(principal, sub):
            raise NotFound("webhook", sub_id)
        return sub

    def _find(self, sub_id: str) -> Subscription | None:
        row = self.db.fetchone(SELECT_SUBSCRIPTION + " WHERE id = ?", (sub_id,))
        return subscription_of(row) if row else None


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return advisory_key("webhooks", name)


def lock_key(name: str = DISPATCHER) -> int:
    """The advisory-lock key that the leading dispatcher holds (PostgreSQL)."""
    return _lock_key(name)
