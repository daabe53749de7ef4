"""What the deadline watcher must look at, read from the concern list (`minqing_concern_list`)
along its indexes, page by page: due dates passed and answers overdue, open stages, stages
not yet carded, suspensions whose until date has come."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from adapters.database import Database
from domain.lifecycle import Status
from projections.concerns import TABLE, utc_text

WATCH_PAGE = 200

# The same tests as Concern.deadline_missed_on and Concern.feedback_overdue_since, so a row
# is found exactly while its concern still needs the fact (once the list has caught up).
# Due dates only ever move later, so "not the last due date recorded missed" is "not any".
MISSED_DEADLINES = (
    f"SELECT id, due_on AS walk_key FROM {TABLE}"  # noqa: S608
    " WHERE status = ? AND due_on < ? AND (due_on, id) > (?, ?)"
    " AND (missed_due_on IS NULL OR missed_due_on <> due_on) AND suspended_until IS NULL"
    " ORDER BY due_on, id LIMIT ?"
)
FEEDBACK_OVERDUE = (
    f"SELECT id, resolved_at AS walk_key FROM {TABLE}"  # noqa: S608
    " WHERE feedback_pending = ? AND resolved_at <= ? AND (resolved_at, id) > (?, ?)"
    " AND (feedback_overdue_round IS NULL OR feedback_overdue_round <> round)"
    " ORDER BY resolved_at, id LIMIT ?"
)


def deadline_candidates(
    db: Database, now: datetime, feedback_window_days: int, page: int = WATCH_PAGE
) -> Iterator[str]:
    """Ids of concerns that need a fact at `now` (a time in the community's zone): a passed
    due date not yet recorded missed, most overdue first, then a resident's answer overdue
    and not yet recorded, longest waiting first. Read page by page along an index."""
    today = now.date().isoformat()
    resolved_by = utc_text(now - timedelta(days=feedback_window_days))
    yield from _walk(db, MISSED_DEADLINES, (Status.ASSIGNED.value, today), page)
    yield from _walk(db, FEEDBACK_OVERDUE, (True, resolved_by), page)


# Open triage and committee stages not yet recorded missed (the watcher computes each one's
# deadline on the work calendar from the row and records those past it; projections know no
# calendar).
OPEN_STAGES = (
    f"SELECT * FROM {TABLE}"  # noqa: S608
    " WHERE status IN (?, ?) AND id > ?"
    " AND (missed_stage_since IS NULL OR missed_stage_since <> stage_since)"
    " ORDER BY id LIMIT ?"
)


def open_stages(db: Database, page: int = WATCH_PAGE) -> Iterator[Any]:
    """Rows of concerns in triage or with the committee whose miss is not recorded yet."""
    statuses = (Status.INTAKE.value, Status.COMMITTEE.value)
    after = ""
    while True:
        rows = db.fetchall(OPEN_STAGES, (*statuses, after, page))
        yield from rows
        if len(rows) < page:
            return
        after = str(rows[-1]["id"])


# Open stages whose red card has not been issued (the watcher's walk for cards).
CARD_STAGES = (
    f"SELECT * FROM {TABLE}"  # noqa: S608
    " WHERE (status IN (?, ?, ?) OR feedback_pending = ?) AND id > ?"
    " AND (card_mark IS NULL OR card_mark <> stage_since || '|red')"
    " ORDER BY id LIMIT ?"
)


def card_stages(db: Database, page: int = WATCH_PAGE) -> Iterator[Any]:
    """Rows of concerns in an open stage that has not had its red card, page by page."""
    statuses = (Status.INTAKE.value, Status.COMMITTEE.value, Status.ASSIGNED.value)
    after = ""
    while True:
        rows = db.fetchall(CARD_STAGES, (*statuses, True, after, page))
        yield from rows
        if len(rows) < page:
            return
        after = str(rows[-1]["id"])


# Suspensions whose until date has come (the watcher resumes them: Concern.resume_due).
SUSPENSIONS_DUE = (
    f"SELECT id, suspended_until AS walk_key FROM {TABLE}"  # noqa: S608
    " WHERE suspended_until IS NOT NULL AND suspended_until <= ? AND (suspended_until, id) > (?, ?)"
    " ORDER BY suspended_until, id LIMIT ?"
)


def suspensions_due(db: Database, today: date, page: int = WATCH_PAGE) -> Iterator[str]:
    """Ids of suspended concerns whose until date is `today` or earlier, earliest first."""
    yield from _walk(db, SUSPENSIONS_DUE, (today.isoformat(),), page)


def _walk(db: Database, sql: str, params: tuple[Any, ...], page: int) -> Iterator[str]:
    # Each page is a query of its own (no transaction stays open while the caller works),
    # continuing after the last row of the one before.
    after: tuple[str, str] = ("", "")
    while True:
        rows = db.fetchall(sql, (*params, *after, page))
        for row in rows:
            yield str(row["id"])
        if len(rows) < page:
            return
        after = (str(rows[-1]["walk_key"]), str(rows[-1]["id"]))
