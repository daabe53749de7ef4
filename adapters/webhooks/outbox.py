"""The webhook outbox: the dispatcher's position, the rows it queues per subscription and
event, what is due, each attempt's outcome, replays and the backlog."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.database import Cursor
from adapters.webhooks.tables import (
    ATTEMPTS_TABLE,
    DELIVERIES_TABLE,
    DISPATCHER,
    INSERT_CHUNK,
    MAX_REPLAY_SPAN,
    POSITIONS_TABLE,
    QUEUE_HEAD,
    REPLAY_BATCH,
    SUBSCRIPTIONS_TABLE,
    Attempt,
    Backlog,
    DeliveryPage,
    DeliveryStatus,
    Due,
    Status,
    WebhookStore,
    iso,
    sees,
)
from domain.cloudevents import BY_TOPIC, event_id, topics_for
from domain.errors import Invalid, NotFound
from domain.principal import Principal


class Outbox(WebhookStore):
    """The deliveries' side of the store."""

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
        if sub is None or not sees(principal, sub):
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
                    iso(float(r["next_attempt_at"]))
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
                    after, REPLAY_BATCH, stop=end, topics=topics, inclusive_of_start=False
                )
            )
            if not batch:
                break
            rows = [_outbox_row(sub.id, n, now, iso(now)) for n in batch]
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
        stamp = iso(now)
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
            f" ON w.id = d.subscription_id WHERE {QUEUE_HEAD} AND d.next_attempt_at <= ?"
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
            f" JOIN {SUBSCRIPTIONS_TABLE} w ON w.id = d.subscription_id WHERE {QUEUE_HEAD}"
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
        stamp = iso(attempt.at)
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
    for i in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[i : i + INSERT_CHUNK]
        values = ", ".join("(" + ", ".join("?" for _ in chunk[0]) + ")" for _ in chunk)
        cur.execute(
            f"INSERT INTO {DELIVERIES_TABLE} ({_COLUMNS}) VALUES {values}{conflict}",  # noqa: S608
            tuple(v for row in chunk for v in row),
        )
