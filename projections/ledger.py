"""The ledger read model (台账): one row per concern and one per household visit.

A concern's row holds what the tallies count: its cohort keys (when it was raised, grid,
category, library) and the facts and times of its history (referred, put on a meeting's
agenda, adopted, first assigned, the owner's first action, resolved and on time or not,
declined and why, the resident's latest answer, reopened and extended how often, the due
date). A visit's row holds its grid, date, priority-visit kind and a keyed hash of the
household (the event's own, or made from the text of a visit recorded before households were
sealed), so households can be counted without the address being copied here.

The projection stores raw times only (UTC text): the month in the community's time zone,
the response window and "today" belong to the queries (projections.ledger_figures), which
know the settings and the clock.

This module holds the tables and the queries that read them (the ledger, its drill-down,
the visits register); how each event changes the rows is projections/ledger_fold.py's.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from adapters.database import Cursor, Database
from domain.errors import Invalid
from domain.lifecycle import Status
from domain.residents import household_key as keyed_household_key
from domain.visit import Visit
from domain.vocabulary import PriorityVisit
from projections.concerns import (
    CONCERN_TOPICS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    decode_key,
    encode_key,
    utc_text,
)
from projections.ledger_figures import (
    BY_NAME,
    FIGURES,
    Clock,
    ConcernFacts,
    Subject,
    concern_facts,
    visit_facts,
)
from projections.ledger_fold import COLUMNS, VISIT_COLUMNS, fold_concern, visit_row
from projections.ledger_tally import concerns_of, tally, visits_of
from projections.rows import Row, RowPerAggregate, insert_rows
from projections.runner import Recorded, Table

CONCERNS = "minqing_ledger_concerns"
VISITS = "minqing_ledger_visits"
VISIT_TOPIC = get_topic(Visit.Recorded)


def household_key(grid: str, household: str, secret: bytes = b"") -> str:
    """A stable key for one household in one grid: the same text, however it was spaced or
    typed (full-width digits, case), gives the same key; the text itself is not kept. The
    service keys it with a secret of the master key's (`Keyring.household_key`)."""
    return keyed_household_key(grid, household, secret)


class Ledger(RowPerAggregate):
    """Concerns and visits with everything the ledger's tallies and drill-downs need."""

    name = "ledger"
    # 2: households are counted by a keyed hash (1 hashed the text without a key).
    # 3: residents (whoever raised a concern and its co-signers).
    # 4: suspensions approved, the stages overdue and those an appeal exempts; voids (a
    # status, `voided`, the figures leave out).
    version = 4
    topics = (*CONCERN_TOPICS, VISIT_TOPIC)
    tables = (
        Table(
            CONCERNS,
            "id TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL,"
            " status TEXT NOT NULL, category TEXT NOT NULL, library TEXT NOT NULL,"
            " grid TEXT NOT NULL, raised_at TEXT NOT NULL, referred_at TEXT,"
            " shortlisted_at TEXT, adopted_at TEXT, assigned_at TEXT, first_action_at TEXT,"
            " due_on TEXT, resolved_at TEXT, resolved_on_time INTEGER,"
            " resolutions INTEGER NOT NULL, decline_reason TEXT,"
            " feedback_count INTEGER NOT NULL, solved INTEGER, satisfaction TEXT,"
            " reopened_count INTEGER NOT NULL, extended_count INTEGER NOT NULL,"
            " version BIGINT NOT NULL, position BIGINT NOT NULL,"
            " residents INTEGER NOT NULL DEFAULT 1,"
            " suspended_count INTEGER NOT NULL DEFAULT 0, overdue_stages TEXT,"
            " exempt_stages TEXT",
            {"raised": "(raised_at)", "grid": "(grid, raised_at)"},
        ),
        Table(
            VISITS,
            "id TEXT PRIMARY KEY, grid TEXT NOT NULL, household_key TEXT NOT NULL,"
            " visited_on TEXT NOT NULL, priority_visit TEXT, recorded_by TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, concern_count INTEGER NOT NULL,"
            " position BIGINT NOT NULL",
            {"visited": "(visited_on, id)", "grid": "(grid, visited_on, id)"},
        ),
    )

    row_table = CONCERNS
    creations = frozenset({"Concern.Raised"})
    columns = COLUMNS

    def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Insert the batch's visits; fold its concern events into the concerns' rows."""
        visits = [r for r in batch if r.notification.topic == VISIT_TOPIC]
        insert_rows(cur, self.table(VISITS), VISIT_COLUMNS, [visit_row(r) for r in visits])
        super().apply_batch(cur, [r for r in batch if r.notification.topic != VISIT_TOPIC])

    def fold(self, row: Row | None, recorded: Recorded) -> Row | None:
        """A new row on Raised; otherwise the row with what the event changed."""
        return fold_concern(row, recorded)


# -- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which rows a ledger reads: a date range on the cohort date (both ends included, either
    open), the grids asked for, and the caller's grid scope (empty: every grid)."""

    start: date | None = None
    end: date | None = None
    grids: Sequence[str] = ()
    scope: frozenset[str] = frozenset()


def _grids(selection: Selection, where: list[str], params: list[Any]) -> None:
    for grids in (list(selection.grids), sorted(selection.scope)):
        if grids:
            where.append(f"grid IN ({', '.join('?' * len(grids))})")
            params.extend(grids)


def _sql(table: str, where: list[str], order: str) -> str:
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT * FROM {table}{clause} ORDER BY {order}"  # noqa: S608


def _midnight(day: date, zone: ZoneInfo) -> str:
    return utc_text(datetime.combine(day, time(), zone))


def concern_rows(db: Database, selection: Selection, zone: ZoneInfo) -> list[Any]:
    """The ledger rows of the concerns raised in the range (local dates of `zone`)."""
    where: list[str] = []
    params: list[Any] = []
    # Local midnights in UTC text bound the range exactly, so the database filters it.
    if selection.start is not None:
        where.append("raised_at >= ?")
        params.append(_midnight(selection.start, zone))
    if selection.end is not None:
        where.append("raised_at < ?")
        params.append(_midnight(selection.end + timedelta(days=1), zone))
    _grids(selection, where, params)
    return db.fetchall(_sql(CONCERNS, where, "raised_at, id"), tuple(params))


def visit_rows(db: Database, selection: Selection) -> list[Any]:
    """The ledger rows of the visits made in the range."""
    where: list[str] = []
    params: list[Any] = []
    if selection.start is not None:
        where.append("visited_on >= ?")
        params.append(selection.start.isoformat())
    if selection.end is not None:
        where.append("visited_on <= ?")
        params.append(selection.end.isoformat())
    _grids(selection, where, params)
    return db.fetchall(_sql(VISITS, where, "visited_on, id"), tuple(params))


# -- the ledger and its drill-down ----------------------------------------------------------


def read_ledger(
    db: Database, selection: Selection, group_by: Sequence[str], clock: Clock
) -> dict[str, Any]:
    """The ledger: every figure per cell of `group_by`, the totals, and the definitions."""
    concerns = [concern_facts(r, clock) for r in concern_rows(db, selection, clock.zone)]
    visits = [visit_facts(r) for r in visit_rows(db, selection)]
    rows, totals = tally(concerns, visits, group_by, clock.today)
    return {
        "from": selection.start.isoformat() if selection.start else None,
        "to": selection.end.isoformat() if selection.end else None,
        "group_by": list(group_by),
        "as_of": clock.now.astimezone(clock.zone).isoformat(),
        "response_window_days": clock.response_window / timedelta(days=1),
        "figures": [f.as_dict() for f in FIGURES],
        "rows": rows,
        "totals": totals,
    }


@dataclass(frozen=True)
class Cell:
    """One cell of the ledger: any of its keys (None: every value of that key)."""

    month: str | None = None  # YYYY-MM
    grid: str | None = None
    category: str | None = None


def month_bounds(month: str, field: str = "month") -> tuple[date, date]:
    """The first and last day of a `YYYY-MM` month; Invalid naming `field` otherwise."""
    try:
        if len(month) != 7:
            raise ValueError(month)
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Invalid([(field, "must be a month as YYYY-MM")]) from None
    # monthrange, not "the next month's first day less one": that overflows in 9999-12.
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _within(selection: Selection, cell: Cell) -> Selection:
    """The selection narrowed to the cell's month and grid, so the database filters them
    (the cell's keys are checked on every row afterwards all the same)."""
    start, end = selection.start, selection.end
    if cell.month is not None:
        first, last = month_bounds(cell.month)
        start = max(start, first) if start else first
        end = min(end, last) if end else last
    grids = selection.grids
    if cell.grid is not None and not grids:
        grids = [cell.grid]
    return Selection(start, end, grids, selection.scope)


def open_figure(
    db: Database,
    figure: str,
    subject: Subject,
    selection: Selection,
    cell: Cell,
    clock: Clock,
) -> dict[str, Any]:
    """The concerns (or visits, as `subject` says) behind one figure of one cell, as the
    ledger counted them."""
    definition = BY_NAME.get(figure)
    if definition is None:
        raise Invalid([("figure", f"no figure {figure!r}; the ledger's `figures` lists them")])
    if definition.subject != subject:
        where = f"/api/v1/ledger/{definition.subject}"
        raise Invalid([("figure", f"{figure} counts {definition.subject}: open it at {where}")])
    narrowed = _within(selection, cell)
    if subject == "visits":
        rows = {r["id"]: r for r in visit_rows(db, narrowed)}
        visits = [v for v in map(visit_facts, rows.values()) if _in_cell(v.month, v.grid, cell)]
        items = [visit_summary(rows[v.id], clock.zone) for v in visits_of(definition, visits)]
    else:
        concerns = [
            c
            for c in (concern_facts(r, clock) for r in concern_rows(db, narrowed, clock.zone))
            if _in_cell(c.month, c.grid, cell) and cell.category in (None, c.category)
        ]
        items = [concern_item(c) for c in concerns_of(definition, concerns, clock.today)]
    return {
        "figure": definition.as_dict(),
        "cell": {"month": cell.month, "grid": cell.grid, "category": cell.category},
        "from": selection.start.isoformat() if selection.start else None,
        "to": selection.end.isoformat() if selection.end else None,
        "count": len(items),
        "items": items,
    }


def _in_cell(month: str, grid: str, cell: Cell) -> bool:
    return cell.month in (None, month) and cell.grid in (None, grid)


def concern_item(c: ConcernFacts) -> dict[str, Any]:
    """A concern as a drill-down lists it: what the ledger counted it by, nothing personal."""
    status = Status(c.status)
    return {
        "id": c.id,
        "reference": c.reference,
        "title": c.title,
        "status": status.value,
        "status_label": {"zh": status.zh, "en": status.en},
        "category": c.category,
        "library": c.library,
        "grid": c.grid,
        "month": c.month,
        "raised_at": c.raised_at.isoformat(),
        "assigned_at": c.assigned_at.isoformat() if c.assigned_at else None,
        "first_action_at": c.first_action_at.isoformat() if c.first_action_at else None,
        "due_on": c.due_on.isoformat() if c.due_on else None,
        "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
        "resolved_on_time": c.resolved_on_time,
        "days_to_resolve": c.days_to_resolve,
        "decline_reason": c.decline_reason,
        "solved": c.solved,
        "satisfaction": c.satisfaction,
        "reopened_count": c.reopened_count,
        "extended_count": c.extended_count,
        "suspended_count": c.suspended_count,
        "overdue_stages": sorted(c.overdue_stages),
        "exempt_stages": sorted(c.exempt_stages),
    }


# -- the visits register ----------------------------------------------------------------------


@dataclass(frozen=True)
class VisitQuery:
    """Filters of the visits register; `priority_visit` narrows to one kind."""

    selection: Selection = Selection()
    priority_visit: PriorityVisit | None = None


_VISIT_CURSOR = "visits"


def list_visits(
    db: Database,
    query: VisitQuery,
    *,
    zone: ZoneInfo,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """One page of the visits register, the latest visit first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid([("limit", f"must be between 1 and {MAX_LIMIT}")])
    selection = query.selection
    where: list[str] = []
    params: list[Any] = []
    if selection.start is not None:
        where.append("visited_on >= ?")
        params.append(selection.start.isoformat())
    if selection.end is not None:
        where.append("visited_on <= ?")
        params.append(selection.end.isoformat())
    _grids(selection, where, params)
    if query.priority_visit is not None:
        where.append("priority_visit = ?")
        params.append(query.priority_visit.value)
    if cursor is not None:
        where.append("(visited_on, id) < (?, ?)")
        params += decode_key(_VISIT_CURSOR, cursor, 2)
    sql = _sql(VISITS, where, "visited_on DESC, id DESC") + " LIMIT ?"
    rows = db.fetchall(sql, (*params, limit + 1))
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = (
        encode_key(_VISIT_CURSOR, [page[-1]["visited_on"], page[-1]["id"]])
        if more and page
        else None
    )
    return Page([visit_summary(r, zone) for r in page], next_cursor)


def visit_summary(row: Any, zone: ZoneInfo) -> dict[str, Any]:
    """A visit as the register lists it: no household text and no notes (open the visit)."""
    kind = PriorityVisit(row["priority_visit"]) if row["priority_visit"] else None
    return {
        "id": row["id"],
        "grid": row["grid"],
        "visited_on": row["visited_on"],
        "priority_visit": kind.value if kind else None,
        "priority_visit_label": {"zh": kind.zh, "en": kind.en} if kind else None,
        "household_key": row["household_key"],
        "concern_count": int(row["concern_count"]),
        "recorded_by": row["recorded_by"],
        "recorded_at": datetime.fromisoformat(row["recorded_at"]).astimezone(zone).isoformat(),
        "position": int(row["position"]),
    }
