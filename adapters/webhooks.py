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

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.database import Cursor
from adapters.sessions import advisory_key
from application.minqing import Minqing
from domain.cloudevents import BY_TOPIC, BY_TYPE, event_id, topics_for
from domain.errors import Invalid, NotFound
from domain.principal import Principal
from domain.vocabulary import Role

SUBSCRIPTIONS_TABLE = "minqing_webhooks"
DELIVERIES_TABLE = "minqing_webhook_deliveries"
ATTEMPTS_TABLE = "minqing_webhook_attempts"
POSITIONS_TABLE = "minqing_webhook_positions"
DISPATCHER = "dispatcher"

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's marker of a signing secret, not a secret
SECRET_BYTES = 32
# The spec asks for keys of 24 to 64 bytes.
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
# The spec's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
ROTATION_GRACE_SECONDS = 24 * 3600.0
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
# A replay enqueues rows in the request; bigger spans are split by the caller.
MAX_REPLAY_SPAN = 100_000
_REPLAY_BATCH = 500
_INSERT_CHUNK = 100

Clock = Callable[[], float]
Resolver = Callable[[str, int], list[str]]


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
_HEAD = (
    f"d.status = 'pending' AND w.status = 'active' AND NOT EXISTS ("  # noqa: S608
    f" SELECT 1 FROM {DELIVERIES_TABLE} e WHERE e.subscription_id = d.subscription_id"
    " AND e.subject = d.subject AND e.status = 'pending' AND e.position < d.position)"
)


# -- signing (the Standard Webhooks algorithm) ------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret: the base64-decoded part after the prefix."""
    if not secret.startswith(SECRET_PREFIX):
        msg = f"a webhook secret starts with {SECRET_PREFIX}"
        raise ValueError(msg)
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        msg = "a webhook secret is whsec_ followed by base64"
        raise ValueError(msg) from exc


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` signature."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per valid key, space-separated."""
    return " ".join(sign(k, msg_id, timestamp, body) for k in keys)


# -- target URLs ----------------------------------------------------------------------------


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (raises OSError when it does not resolve)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for private, loopback, link-local, shared (CGNAT), reserved and
    # documentation ranges alike; multicast is global yet never a receiver.
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """The URL, stripped, if a webhook may be sent to it; Invalid naming `url` otherwise.

    Only http and https. Unless `allow_private`, every address the host resolves to must
    be public: a subscription must not turn the dispatcher against the internal network.
    """
    clean = url.strip()
    if not clean:
        raise Invalid([("url", "is required")])
    if len(clean) > MAX_URL_LENGTH:
        raise Invalid([("url", f"at most {MAX_URL_LENGTH} characters")])
    try:
        parts = urlsplit(clean)
        port = parts.port
    except ValueError as exc:
        raise Invalid([("url", f"not a valid URL: {exc}")]) from None
    if parts.scheme not in ("http", "https"):
        raise Invalid([("url", "must be an http:// or https:// URL")])
    host = parts.hostname
    if not host:
        raise Invalid([("url", "must name a host")])
    if parts.username or parts.password:
        raise Invalid([("url", "must not carry a user name or password")])
    if allow_private:
        return clean
    try:
        addresses = resolver(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise Invalid([("url", f"the host {host} does not resolve")]) from None
    bad = [a for a in addresses if _refused(a)]
    if bad or not addresses:
        raise Invalid(
            [
                (
                    "url",
                    f"the host {host} resolves to a private, loopback or link-local address"
                    f" ({', '.join(bad) or 'none'}); such targets need"
                    " MINQING_WEBHOOKS_ALLOW_PRIVATE=1",
                )
            ]
        )
    return clean


def check_types(types: Iterable[str]) -> tuple[str, ...]:
    """The event types, deduplicated and sorted; Invalid naming `event_types` if unknown."""
    names = sorted({t.strip() for t in types if t.strip()})
    unknown = [t for t in names if t not in BY_TYPE]
    if unknown:
        msg = f"unknown event type {', '.join(unknown)}; see /api/v1/events/schemas"
        raise Invalid([("event_types", msg)])
    return tuple(names)


# -- plain data -----------------------------------------------------------------------------


def _iso(moment: float | None) -> str | None:
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
            "previous_secret_expires_at": _iso(expires),
        }


def _subscription(row: Any) -> Subscription:
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


_SELECT_SUBSCRIPTION = (
    "SELECT id, url, event_types, description, status, disabled_reason, start_after,"  # noqa: S608
    " created_at, created_by, updated_at, previous_secret_expires_at"
    f" FROM {SUBSCRIPTIONS_TABLE}"
)


class Webhooks:
    """Subscriptions, the outbox and the dispatcher's position, on the application's database."""

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

    def create(
        self,
        principal: Principal,
        url: str,
        event_types: Collection[str] = (),
        description: str = "",
        secret: str | None = None,
    ) -> tuple[Subscription, str]:
        """A new active subscription and its secret (the only time the secret is shown).

        It receives the matching events committed after it was created; `replay` sends
        older ones.
        """
        clean = check_url(url, allow_private=self.allow_private, resolver=self.resolver)
        types = check_types(event_types)
        description = _description(description)
        if secret is None:
            secret = new_secret()
        else:
            _check_secret(secret)
        sub_id = str(uuid.uuid4())
        now = _iso(self.clock())
        with self.db.transaction() as cur:
            # Hold the dispatcher's position row while reading the head: the dispatcher
            # cannot pass this head before the subscription is visible to it, so it gets
            # every event after `start_after`.
            cur.execute(
                f"UPDATE {POSITIONS_TABLE} SET position = position WHERE name = ?",  # noqa: S608
                (DISPATCHER,),
            )
            start_after = self.db.head(cur)
            cur.execute(
                f"INSERT INTO {SUBSCRIPTIONS_TABLE} (id, url, event_types, description,"  # noqa: S608
                " secret, status, start_after, created_at, created_by, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sub_id,
                    clean,
                    json.dumps(list(types)),
                    description,
                    self._seal(sub_id, secret),
                    Status.ACTIVE.value,
                    start_after,
                    now,
                    principal.id,
                    now,
                ),
            )
        return self.get(sub_id, principal), secret

    def get(self, sub_id: str, principal: Principal | None = None) -> Subscription:
        """A subscription that is not deleted; NotFound when the caller may not see it."""
        sub = self._find(sub_id)
        if sub is None or sub.status is Status.DELETED or not _sees(principal, sub):
            raise NotFound("webhook", sub_id)
        return sub

    def all(self, principal: Principal | None = None) -> list[Subscription]:
        """The subscriptions the caller may see (admins: all; others: their own)."""
        rows = self.db.fetchall(
            _SELECT_SUBSCRIPTION + " WHERE status <> ? ORDER BY created_at, id",
            (Status.DELETED.value,),
        )
        return [s for s in map(_subscription, rows) if _sees(principal, s)]

    def update(
        self,
        sub_id: str,
        principal: Principal | None = None,
        *,
        url: str | None = None,
        event_types: Collection[str] | None = None,
        status: Status | None = None,
    ) -> Subscription:
        """Change the URL, the event types or the status (`active` or `disabled`)."""
        sub = self.get(sub_id, principal)
        sets: list[str] = []
        params: list[Any] = []
        if url is not None:
            sets.append("url = ?")
            params.append(check_url(url, allow_private=self.allow_private, resolver=self.resolver))
        if event_types is not None:
            sets.append("event_types = ?")
            params.append(json.dumps(list(check_types(event_types))))
        if status is not None:
            if status is Status.DELETED:
                raise Invalid([("status", "must be active or disabled; DELETE removes it")])
            sets.append("status = ?")
            params.append(status.value)
            sets.append("disabled_reason = ?")
            who = principal.name if principal else "an operator"
            params.append(None if status is Status.ACTIVE else f"disabled by {who}")
        if not sets:
            return sub
        sets.append("updated_at = ?")
        params.append(_iso(self.clock()))
        self.db.execute(
            f"UPDATE {SUBSCRIPTIONS_TABLE} SET {', '.join(sets)}"  # noqa: S608
            " WHERE id = ? AND status <> ?",
            (*params, sub_id, Status.DELETED.value),
        )
        return self.get(sub_id, principal)

    def delete(self, sub_id: str, principal: Principal | None = None) -> None:
        """Mark the subscription deleted; its delivery history stays, pending rows cancel."""
        self.get(sub_id, principal)
        now = _iso(self.clock())
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {SUBSCRIPTIONS_TABLE} SET status = ?, deleted_at = ?,"  # noqa: S608
                " updated_at = ?, secret = '', previous_secret = NULL WHERE id = ?",
                (Status.DELETED.value, now, now, sub_id),
            )
            cur.execute(
                f"UPDATE {DELIVERIES_TABLE} SET status = ?"  # noqa: S608
                " WHERE subscription_id = ? AND status = ?",
                (DeliveryStatus.CANCELLED.value, sub_id, DeliveryStatus.PENDING.value),
            )

    def rotate_secret(
        self, sub_id: str, principal: Principal | None = None
    ) -> tuple[Subscription, str]:
        """A new secret (shown once); the old one keeps signing for the grace period.

        During the grace period every delivery carries two signatures, so a receiver can
        switch secrets whenever it likes. Rotating again drops the oldest secret at once.
        """
        self.get(sub_id, principal)
        secret = new_secret()
        now = self.clock()
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {SUBSCRIPTIONS_TABLE} SET previous_secret = secret,"  # noqa: S608
                " previous_secret_expires_at = ?, secret = ?, updated_at = ?"
                " WHERE id = ? AND status <> ?",
                (
                    now + self.rotation_grace,
                    self._seal(sub_id, secret),
                    _iso(now),
                    sub_id,
                    Status.DELETED.value,
                ),
            )
        return self.get(sub_id, principal), secret

    def signing_keys(self, sub_id: str) -> list[bytes]:
        """The HMAC keys to sign with now: the current secret's, then the previous one's
        while its grace period runs."""
        row = self.db.fetchone(
            f"SELECT secret, previous_secret, previous_secret_expires_at"  # noqa: S608
            f" FROM {SUBSCRIPTIONS_TABLE} WHERE id = ?",
            (sub_id,),
        )
        if row is None or not row["secret"]:
            raise NotFound("webhook", sub_id)
        keys = [secret_key(self._open(sub_id, str(row["secret"])))]
        expires = row["previous_secret_expires_at"]
        if row["previous_secret"] and expires is not None and float(expires) > self.clock():
            keys.append(secret_key(self._open(sub_id, str(row["previous_secret"]))))
        return keys

    def _find(self, sub_id: str) -> Subscription | None:
        row = self.db.fetchone(_SELECT_SUBSCRIPTION + " WHERE id = ?", (sub_id,))
        return _subscription(row) if row else None

    def _seal(self, sub_id: str, secret: str) -> str:
        return self.app.keyring.encrypt(secret.encode(), f"webhook-secret:{sub_id}")

    def _open(self, sub_id: str, sealed: str) -> str:
        return self.app.keyring.decrypt(sealed, f"webhook-secret:{sub_id}").decode()

    # -- deliveries --------------------------------------------------------------------------

    def deliveries(
        self,
        sub_id: str,
        principal: Principal | None = None,
        *,
        status: DeliveryStatus | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> DeliveryPage:
        """A subscription's outbox rows after a position, each with its attempts.

        Readable after the subscription is deleted: the history is kept.
        """
        sub = self._find(sub_id)
        if sub is None or not _sees(principal, sub):
            raise NotFound("webhook", sub_id)
        where, params = "subscription_id = ? AND position > ?", [sub_id, after]
        if status is not None:
            where += " AND status = ?"
            params.append(status.value)
        tries: dict[int, list[dict[str, Any]]] = {}
        counts = {s.value: 0 for s in DeliveryStatus}
        # One snapshot: the rows, their attempts and the counts agree, though the
        # dispatcher records outcomes meanwhile.
        with self.db.snapshot() as cur:
            cur.execute(
                "SELECT position, event_id, subject, event_type, status, attempts,"  # noqa: S608
                " total_attempts, next_attempt_at, last_status_code, last_error,"
                " last_attempt_at, delivered_at, parked_at, created_at"
                f" FROM {DELIVERIES_TABLE} WHERE {where} ORDER BY position LIMIT ?",
                (*params, limit),
            )
            rows = cur.fetchall()
            if rows:
                positions = [int(r["position"]) for r in rows]
                marks = ", ".join("?" for _ in positions)
                cur.execute(
                    "SELECT position, attempt, at, status_code, error, duration_ms"  # noqa: S608
                    f" FROM {ATTEMPTS_TABLE} WHERE subscription_id = ? AND position IN ({marks})"
                    " ORDER BY position, attempt",
                    (sub_id, *positions),
                )
                for a in cur.fetchall():
                    tries.setdefault(int(a["position"]), []).append(
                        {
                            "attempt": int(a["attempt"]),
                            "at": a["at"],
                            "status_code": a["status_code"],
                            "error": a["error"],
                            "duration_ms": int(a["duration_ms"]),
                        }
                    )
            cur.execute(
                f"SELECT status, COUNT(*) AS n FROM {DELIVERIES_TABLE}"  # noqa: S608
                " WHERE subscription_id = ? GROUP BY status",
                (sub_id,),
            )
            for c in cur.fetchall():
                counts[str(c["status"])] = int(c["n"])
        items = [
            {
                "position": int(r["position"]),
                "webhook_id": r["event_id"],
                "subject": r["subject"],
                "type": r["event_type"],
                "status": r["status"],
                "attempts": int(r["attempts"]),
                "total_attempts": int(r["total_attempts"]),
                "next_attempt_at": (
                    _iso(float(r["next_attempt_at"]))
                    if r["status"] == DeliveryStatus.PENDING.value
                    else None
                ),
                "last_status_code": r["last_status_code"],
                "last_error": r["last_error"],
                "last_attempt_at": r["last_attempt_at"],
                "delivered_at": r["delivered_at"],
                "parked_at": r["parked_at"],
                "created_at": r["created_at"],
                "attempt_log": tries.get(int(r["position"]), []),
            }
            for r in rows
        ]
        next_after = items[-1]["position"] if len(items) == limit else None
        return DeliveryPage(items, counts, next_after)

    def replay(
        self,
        sub_id: str,
        principal: Principal | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        parked: bool = False,
    ) -> int:
        """Send again: every parked message, or the matching events at positions
        `start`..`end` (inclusive, whether sent before or not); how many rows were queued.

        Replayed rows join their subject's queue by position, so a replayed old event is
        sent before later pending events of its subject (but after those already sent).
        """
        sub = self.get(sub_id, principal)
        now = self.clock()
        if parked:
            with self.db.transaction() as cur:
                cur.execute(
                    f"UPDATE {DELIVERIES_TABLE} SET status = ?, attempts = 0,"  # noqa: S608
                    " next_attempt_at = ?, parked_at = NULL"
                    " WHERE subscription_id = ? AND status = ? RETURNING position",
                    (DeliveryStatus.PENDING.value, now, sub_id, DeliveryStatus.PARKED.value),
                )
                return len(cur.fetchall())
        if start is None or end is None:
            raise Invalid([("from", "give from and to (positions), or parked: true")])
        if start > end:
            raise Invalid([("to", "must not be before from")])
        if end - start >= MAX_REPLAY_SPAN:
            raise Invalid([("to", f"at most {MAX_REPLAY_SPAN} positions per replay")])
        topics = topics_for(sub.event_types)
        queued = 0
        after = start - 1
        while after < end:
            batch = list(
                self.app.recorder.select_notifications(
                    after, _REPLAY_BATCH, stop=end, topics=topics, inclusive_of_start=False
                )
            )
            if not batch:
                break
            rows = [_outbox_row(sub.id, n, now, _iso(now)) for n in batch]
            with self.db.transaction() as cur:
                _insert_rows(cur, rows, replace=True)
            queued += len(rows)
            after = int(batch[-1].id)
        return queued

    # -- the dispatcher's side ---------------------------------------------------------------

    def position(self, name: str = DISPATCHER) -> int:
        """How far the dispatcher has followed the event log."""
        row = self.db.fetchone(
            f"SELECT position FROM {POSITIONS_TABLE} WHERE name = ?",  # noqa: S608
            (name,),
        )
        return int(row["position"]) if row else 0

    def backlog(self) -> Backlog:
        """How far behind the dispatcher is: log positions not yet queued, and messages not
        yet delivered (with the age of the oldest), for /readyz and the metrics."""
        head = int(self.app.recorder.max_notification_id() or 0)
        position = self.position()
        rows = self.db.fetchall(
            f"SELECT w.status AS subscription, d.status, COUNT(*) AS n,"  # noqa: S608
            " MIN(d.created_at) AS oldest"
            f" FROM {DELIVERIES_TABLE} d JOIN {SUBSCRIPTIONS_TABLE} w"
            " ON w.id = d.subscription_id WHERE d.status IN (?, ?) AND w.status <> ?"
            " GROUP BY w.status, d.status",
            (DeliveryStatus.PENDING.value, DeliveryStatus.PARKED.value, Status.DELETED.value),
        )
        undelivered = paused = parked = 0
        oldest: str | None = None
        for r in rows:
            n = int(r["n"])
            if r["status"] == DeliveryStatus.PARKED.value:
                parked += n
            elif r["subscription"] == Status.ACTIVE.value:
                undelivered += n
                oldest = str(r["oldest"])
            else:
                paused += n  # a disabled subscription's queue waits until it is enabled
        age = None
        if oldest is not None:
            age = max(0.0, self.clock() - datetime.fromisoformat(oldest).timestamp())
        return Backlog(position, head, undelivered, paused, parked, oldest, age)

    def has_subscriptions(self) -> bool:
        """True when some subscription is not deleted (else following only moves on)."""
        row = self.db.fetchone(
            f"SELECT 1 AS one FROM {SUBSCRIPTIONS_TABLE} WHERE status <> ? LIMIT 1",  # noqa: S608
            (Status.DELETED.value,),
        )
        return row is not None

    def enqueue(
        self,
        start: int,
        end: int,
        notifications: Sequence[Notification],
        *,
        complete: bool,
        name: str = DISPATCHER,
    ) -> int | None:
        """Queue `notifications` (the published events in (start, end]) for every
        subscription that wants them (disabled ones too: they keep their queue), and move
        the position from `start` to `end`, in one transaction. How many rows were queued;
        None when nothing was done (another dispatcher moved the position first, or
        `complete` was False, i.e. the events were not read, but a subscription needs
        them): read again and retry.
        """
        try:
            return self._enqueue(start, end, notifications, complete=complete, name=name)
        except _Incomplete:
            return None

    def _enqueue(
        self,
        start: int,
        end: int,
        notifications: Sequence[Notification],
        *,
        complete: bool,
        name: str,
    ) -> int | None:
        now = self.clock()
        stamp = _iso(now)
        with self.db.transaction() as cur:
            # The guarded move also takes the row lock that `create` waits on.
            cur.execute(
                f"UPDATE {POSITIONS_TABLE} SET position = ?"  # noqa: S608
                " WHERE name = ? AND position = ? RETURNING position",
                (end, name, start),
            )
            if cur.fetchone() is None:
                return None
            # Read under the lock, so a subscription created concurrently is either seen
            # here or has a start_after at or beyond `end`.
            cur.execute(
                f"SELECT id, event_types, start_after FROM {SUBSCRIPTIONS_TABLE}"  # noqa: S608
                " WHERE status <> ? AND start_after < ?",
                (Status.DELETED.value, end),
            )
            wanted = [
                (str(r["id"]), frozenset(json.loads(r["event_types"])), int(r["start_after"]))
                for r in cur.fetchall()
            ]
            if wanted and not complete:
                raise _Incomplete
            rows = [
                _outbox_row(sub_id, n, now, stamp)
                for n in notifications
                if (contract := BY_TOPIC.get(n.topic)) is not None
                for sub_id, types, start_after in wanted
                if int(n.id) > start_after and (not types or contract.type in types)
            ]
            _insert_rows(cur, rows, replace=False)
        return len(rows)

    def due(self, now: float, limit: int) -> list[Due]:
        """Up to `limit` rows that may be sent now: each the head of its subject's queue."""
        rows = self.db.fetchall(
            "SELECT d.subscription_id, w.url, d.position, d.event_id, d.subject,"  # noqa: S608
            " d.event_type, d.attempts, d.total_attempts, w.updated_at"
            f" FROM {DELIVERIES_TABLE} d JOIN {SUBSCRIPTIONS_TABLE} w"
            f" ON w.id = d.subscription_id WHERE {_HEAD} AND d.next_attempt_at <= ?"
            " ORDER BY d.position LIMIT ?",
            (now, limit),
        )
        return [
            Due(
                subscription_id=str(r["subscription_id"]),
                url=str(r["url"]),
                position=int(r["position"]),
                event_id=str(r["event_id"]),
                subject=str(r["subject"]),
                event_type=str(r["event_type"]),
                attempts=int(r["attempts"]),
                total_attempts=int(r["total_attempts"]),
                revision=str(r["updated_at"]),
            )
            for r in rows
        ]

    def next_due_at(self) -> float | None:
        """When the earliest queue head falls due (None: nothing is pending)."""
        row = self.db.fetchone(
            f"SELECT MIN(d.next_attempt_at) AS at FROM {DELIVERIES_TABLE} d"  # noqa: S608
            f" JOIN {SUBSCRIPTIONS_TABLE} w ON w.id = d.subscription_id WHERE {_HEAD}"
        )
        return float(row["at"]) if row and row["at"] is not None else None

    def record(
        self,
        due: Due,
        attempt: Attempt,
        *,
        status: DeliveryStatus,
        attempts: int,
        next_attempt_at: float,
        disable: str | None = None,
    ) -> bool:
        """Store one attempt and the row's new state (and disable the subscription, on 410).

        False when the row changed meanwhile (another dispatcher recorded an attempt): then
        nothing is written.
        """
        stamp = _iso(attempt.at)
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {DELIVERIES_TABLE} SET status = ?, attempts = ?,"  # noqa: S608
                " total_attempts = total_attempts + 1, next_attempt_at = ?,"
                " last_status_code = ?, last_error = ?, last_attempt_at = ?,"
                " delivered_at = ?, parked_at = ?"
                " WHERE subscription_id = ? AND position = ? AND status = ?"
                " AND total_attempts = ? RETURNING total_attempts",
                (
                    status.value,
                    attempts,
                    next_attempt_at,
                    attempt.status_code,
                    attempt.error,
                    stamp,
                    stamp if status is DeliveryStatus.DELIVERED else None,
                    stamp if status is DeliveryStatus.PARKED else None,
                    due.subscription_id,
                    due.position,
                    DeliveryStatus.PENDING.value,
                    due.total_attempts,
                ),
            )
            row = cur.fetchone()
            if row is None:
                return False
            cur.execute(
                f"INSERT INTO {ATTEMPTS_TABLE} (subscription_id, position, attempt, at,"  # noqa: S608
                " status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    due.subscription_id,
                    due.position,
                    int(row["total_attempts"]),
                    stamp,
                    attempt.status_code,
                    attempt.error,
                    attempt.duration_ms,
                ),
            )
            if disable is not None:
                cur.execute(
                    f"UPDATE {SUBSCRIPTIONS_TABLE} SET status = ?, disabled_reason = ?,"  # noqa: S608
                    " updated_at = ? WHERE id = ? AND status = ?",
                    (
                        Status.DISABLED.value,
                        disable,
                        stamp,
                        due.subscription_id,
                        Status.ACTIVE.value,
                    ),
                )
        return True


class _Incomplete(Exception):
    """`enqueue` was given no events, but a subscription needs them: roll back."""


def _sees(principal: Principal | None, sub: Subscription) -> bool:
    # Integrators manage their own subscriptions; admins (and internal callers) see all.
    return principal is None or Role.ADMIN in principal.roles or sub.created_by == principal.id


def _description(text: str) -> str:
    clean = text.strip()
    if len(clean) > MAX_DESCRIPTION_LENGTH:
        raise Invalid([("description", f"at most {MAX_DESCRIPTION_LENGTH} characters")])
    return clean


def _check_secret(secret: str) -> None:
    try:
        key = secret_key(secret)
    except ValueError as exc:
        raise Invalid([("secret", str(exc))]) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        msg = f"the key must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"
        raise Invalid([("secret", msg)])


def _outbox_row(sub_id: str, n: Notification, now: float, stamp: str | None) -> tuple[Any, ...]:
    contract = BY_TOPIC[n.topic]
    originator = UUID(str(n.originator_id))
    return (
        sub_id,
        int(n.id),
        event_id(originator, int(n.originator_version)),
        str(originator),
        contract.type,
        DeliveryStatus.PENDING.value,
        0,
        0,
        now,
        stamp,
    )


_COLUMNS = (
    "subscription_id, position, event_id, subject, event_type, status, attempts,"
    " total_attempts, next_attempt_at, created_at"
)


def _insert_rows(cur: Cursor, rows: Sequence[tuple[Any, ...]], *, replace: bool) -> None:
    # Several rows per statement: a batch of 500 events is a handful of round trips.
    conflict = (
        " ON CONFLICT (subscription_id, position) DO UPDATE SET status = excluded.status,"
        " attempts = 0, next_attempt_at = excluded.next_attempt_at, delivered_at = NULL,"
        " parked_at = NULL"
        if replace
        else " ON CONFLICT (subscription_id, position) DO NOTHING"
    )
    for i in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[i : i + _INSERT_CHUNK]
        values = ", ".join("(" + ", ".join("?" for _ in chunk[0]) + ")" for _ in chunk)
        cur.execute(
            f"INSERT INTO {DELIVERIES_TABLE} ({_COLUMNS}) VALUES {values}{conflict}",  # noqa: S608
            tuple(v for row in chunk for v in row),
        )


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return advisory_key("webhooks", name)


def lock_key(name: str = DISPATCHER) -> int:
    """The advisory-lock key that the leading dispatcher holds (PostgreSQL)."""
    return _lock_key(name)
