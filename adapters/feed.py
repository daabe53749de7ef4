"""The integrator feed: the event log read as CloudEvents, in log order, with a resumable cursor.

Positions are the log's notification ids. They grow in commit order (PostgreSQL: the
recorder locks the table for each insert; SQLite: one writer at a time) but may have gaps:
an insert that fails burns its ids, and internal events (Index) are never published. A
consumer keeps `next_after` and asks for what comes after it; it never expects
"position + 1".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from application.minqing import Minqing
from domain.cloudevents import DEFAULT_PUBLIC_URL, to_cloudevent, topics_for
from domain.meeting import Meeting
from domain.unreadable import UNDECODABLE, unreadable_cloudevent
from domain.voting import Ballot

MAX_LIMIT = 1000
_UNREADABLE: tuple[type[Exception], ...] = (*UNDECODABLE, KeyError, TypeError, AttributeError)
log = logging.getLogger("minqing.feed")


@dataclass(frozen=True)
class FeedPage:
    """Some events after a position, and the position to ask after next."""

    events: list[dict[str, Any]]
    next_after: int


class EventFeed:
    """Pages of CloudEvents from one Minqing application's log."""

    def __init__(self, app: Minqing, source: str, public_url: str = DEFAULT_PUBLIC_URL) -> None:
        self.app = app
        self.source = source
        self.public_url = public_url
        # A meeting's ballot is fixed when it is scheduled (no event changes its rules),
        # so the answer can be kept for the life of the process.
        self._secret: dict[UUID, bool] = {}
        self._lock = threading.Lock()

    def head(self) -> int:
        """The highest position in the log (0 when empty)."""
        return int(self.app.recorder.max_notification_id() or 0)

    def page(
        self,
        after: int,
        limit: int,
        types: Collection[str] = (),
        subject: UUID | None = None,
    ) -> FeedPage:
        """Up to `limit` published events after `after`, oldest first.

        `next_after` is the position of the last event scanned. When fewer than `limit`
        events match, everything up to the head read *before* the query has been scanned
        (every id up to that head was committed before the head's own transaction took the
        write lock, so the query sees them all); `next_after` then moves there, so a filter
        that matches nothing does not make the consumer scan the same rows again.
        """
        limit = max(1, min(limit, MAX_LIMIT))
        after = max(0, after)
        topics = topics_for(types)
        head = self.head()
        if subject is None:
            rows = list(
                self.app.recorder.select_notifications(
                    after, limit, topics=topics, inclusive_of_start=False
                )
            )
        else:
            rows = self._of_subject(subject, after, limit, topics)
        events = [self.render(n) for n in rows]
        last = rows[-1].id if rows else after
        next_after = last if len(rows) == limit else max(after, head, last)
        return FeedPage(events, next_after)

    def render(self, notification: Notification) -> dict[str, Any]:
        """One stored event as the CloudEvent every channel (pull, stream, webhook) sends;
        an event whose stored bytes no longer decode as its stand-in, so no consumer is
        blocked at its position."""
        try:
            return to_cloudevent(
                notification,
                self.app.mapper.to_domain_event(notification),
                self.source,
                public_url=self.public_url,
                is_secret_ballot=self.is_secret_ballot,
            )
        except _UNREADABLE as exc:
            # Bytes that do not decode, or decode to something its topic's class is not.
            log.error("the stored event at position %d cannot be read: %r", notification.id, exc)
            return unreadable_cloudevent(notification, self.source)

    def is_secret_ballot(self, meeting_id: UUID) -> bool:
        """True when the meeting votes by secret ballot (unknown meetings count as secret)."""
        with self._lock:
            known = self._secret.get(meeting_id)
        if known is not None:
            return known
        try:
            first = next(iter(self.app.events.get(meeting_id, lte=1)), None)
        except UNDECODABLE:
            return True  # the meeting's rules cannot be read: withhold, and ask again later
        if not isinstance(first, Meeting.Scheduled):  # type: ignore[attr-defined]
            return True  # not found: withhold rather than guess
        secret = bool(first.rules.get("ballot") != Ballot.OPEN.value)
        with self._lock:
            self._secret[meeting_id] = secret
        return secret

    def _of_subject(
        self, subject: UUID, after: int, limit: int, topics: list[str]
    ) -> list[Notification]:
        # One aggregate's events come from the primary key (originator_id, version) rather
        # than a scan of the whole log.
        db = self.app.db
        column = db.dialect.position_column
        marks = ", ".join("?" for _ in topics)
        rows = db.fetchall(
            f"SELECT {column} AS position, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {db.events_table} WHERE originator_id = ? AND {column} > ?"
            f" AND topic IN ({marks}) ORDER BY {column} LIMIT ?",
            (db.dialect.originator_id(subject), after, *topics, limit),
        )
        return [
            Notification(
                id=int(r["position"]),
                originator_id=subject,
                originator_version=int(r["originator_version"]),
                topic=str(r["topic"]),
                state=bytes(r["state"]),
            )
            for r in rows
        ]
