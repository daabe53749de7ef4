"""The Open311 read side: each service request's status changes (`minqing_open311_updates`),
and the queries `GET requests` and `GET servicerequestupdates` run over it and the concern
list.

A service request is a concern, named by its reference. One row here per event that moved a
concern's status, with the note the resident's tracking page makes public (a decline's
reason, the resolution's summary; never an internal note). A request's `status_notes` is the
note of its latest status change, which is exactly what the tracking page shows: the summary
is cleared by a reopening, the reason of a decline stays with the final status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic

from adapters.database import Cursor, Database
from domain.cloudevents import event_id
from domain.concern import Concern
from domain.lifecycle import Status
from projections.concern_places import TABLE as PLACES
from projections.concerns import TABLE as CONCERN_LIST
from projections.concerns import utc_text
from projections.runner import Projection, Recorded, Table

TABLE = "minqing_open311_updates"
# The concern events that change its status: the updates the extension lists.
STATUS_EVENTS: tuple[str, ...] = (
    "Referred",
    "HandledNow",
    "Declined",
    "Merged",
    "Withdrawn",
    "Assigned",
    "Shortlisted",
    "RejectedAtMeeting",
    "DeferredAtMeeting",
    "ReturnedForInfo",
    "SentBack",
    "Resolved",
    "Reopened",
    "VoidApproved",
)
TOPICS: tuple[str, ...] = tuple(sorted(get_topic(getattr(Concern, n)) for n in STATUS_EVENTS))
_COLUMNS = ("update_id", "concern_id", "position", "at", "status", "note")
# The concern's point (concern_places), which request_row coarsens to a cell before it is shown.
_POINT = ", ".join(
    f"(SELECT p.{axis} FROM {PLACES} p WHERE p.id = c.id) AS {axis}"  # noqa: S608
    for axis in ("lat", "lng")
)
REQUEST_COLUMNS = (
    "id, reference, title, status, category, duty_role, due_on, raised_at, updated_at, " + _POINT
)


def public_note(event: Any) -> str | None:
    """What the tracking page makes public of a status change: a resolution's summary or a
    decline's reason (a withdrawal's or send-back's reason stays internal)."""
    summary: str | None = getattr(event, "summary", None)
    if summary:
        return summary
    if event.status == Status.DECLINED.value:
        reason: str | None = getattr(event, "reason", None)
        return reason or None
    return None


class Open311Updates(Projection):
    """One row per status change of a concern: when, to which status, the public note."""

    name = "open311_updates"
    topics = TOPICS
    tables = (
        Table(
            TABLE,
            "update_id TEXT PRIMARY KEY, concern_id TEXT NOT NULL, position BIGINT NOT NULL,"
            " at TEXT NOT NULL, status TEXT NOT NULL, note TEXT",
            {"concern": "(concern_id, position)", "at": "(at, position)"},
        ),
    )

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        """One event: a batch of one."""
        self.apply_batch(cur, [recorded])

    def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Insert each status change (its id is the event's stable CloudEvents id)."""
        rows = []
        for recorded in batch:
            e = recorded.event
            rows.append(
                (
                    event_id(e.originator_id, e.originator_version),
                    str(e.originator_id),
                    recorded.position,
                    utc_text(e.at),
                    e.status,
                    public_note(e),
                )
            )
        cur.insert_new(self.table(TABLE), _COLUMNS, rows)


# -- queries ------------------------------------------------------------------------------

# The note of a concern's latest status change (an index lookup per row).
_LATEST_NOTE = (
    f"(SELECT u.note FROM {TABLE} u WHERE u.concern_id = c.id"  # noqa: S608
    " ORDER BY u.position DESC LIMIT 1) AS note"
)


def requests_by_reference(db: Database, references: Sequence[str]) -> list[dict[str, Any]]:
    """The concern-list rows (with their public note) of these references, in that order."""
    if not references:
        return []
    marks = ", ".join("?" for _ in references)
    rows = db.fetchall(
        f"SELECT {REQUEST_COLUMNS}, {_LATEST_NOTE} FROM {CONCERN_LIST} c"  # noqa: S608
        f" WHERE c.reference IN ({marks})",
        tuple(references),
    )
    found = {str(r["reference"]): dict(r) for r in rows}
    return [found[ref] for ref in references if ref in found]


def requests_between(
    db: Database,
    start: datetime,
    end: datetime,
    *,
    categories: Sequence[str] = (),
    statuses: Sequence[str] = (),
    limit: int,
) -> list[dict[str, Any]]:
    """Concerns raised between `start` and `end` (inclusive), newest first, at most
    `limit`, of these categories and Minqing statuses (empty: all)."""
    where = ["c.raised_at >= ?", "c.raised_at <= ?"]
    params: list[Any] = [utc_text(start), utc_text(end)]
    for column, values in (("c.category", categories), ("c.status", statuses)):
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    rows = db.fetchall(
        f"SELECT {REQUEST_COLUMNS}, {_LATEST_NOTE} FROM {CONCERN_LIST} c"  # noqa: S608
        f" WHERE {' AND '.join(where)} ORDER BY c.raised_at DESC, c.id DESC LIMIT ?",
        (*params, limit),
    )
    return [dict(r) for r in rows]


def updates_between(
    db: Database, start: datetime, end: datetime, *, limit: int
) -> list[dict[str, Any]]:
    """Status changes made between `start` and `end` (inclusive), in log order, at most
    `limit`, each with its request's reference."""
    rows = db.fetchall(
        "SELECT u.update_id, c.reference, u.at, u.status, u.note"  # noqa: S608
        f" FROM {TABLE} u JOIN {CONCERN_LIST} c ON c.id = u.concern_id"
        " WHERE u.at >= ? AND u.at <= ? ORDER BY u.position LIMIT ?",
        (utc_text(start), utc_text(end), limit),
    )
    return [dict(r) for r in rows]
