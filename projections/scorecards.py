"""The scorecards' read model (考核记分卡): one row per concern with what a scorecard counts.

A row holds the concern's subjects (its grid, its collector — whoever recorded it —, and
its owner: the member who holds it last), when it was raised, and the facts of its history
the figures read: first assigned and the owner's first action after it, resolved (ever) and
the latest resolution on time or not, reopened, extended, the latest feedback, the stages
recorded overdue and those an approved appeal exempts, the cards received, and whether it
was voided. The figures, the weights and the grades belong to the queries
(projections/scorecard_figures.py).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from adapters.database import Database
from domain.vocabulary import Satisfaction
from projections.concerns import CONCERN_TOPICS, utc_text
from projections.rows import Row, RowPerAggregate
from projections.runner import Recorded, Table

TABLE = "minqing_scorecard_concerns"

# The owner's first action after an assignment: the response time's clock stops here (as
# the ledger's response rate).
OWNER_ACTIONS = frozenset({"ProgressRecorded", "Resolved", "SentBack"})
OWNER_SET = frozenset({"HandledNow", "Assigned", "Reassigned"})
SATISFIED = frozenset({Satisfaction.SATISFIED.value, Satisfaction.BASICALLY_SATISFIED.value})
# The stages before resolution whose lateness makes a closure late (a StageMissed stage, or
# handling when the latest resolution came after its due date).
CLOSURE_STAGES = ("triage", "committee", "handling")


def _add(text: str | None, item: str) -> str:
    """`item` added to a comma-separated set kept in order of first appearance."""
    items = [i for i in (text or "").split(",") if i]
    if item not in items:
        items.append(item)
    return ",".join(items)


class Scorecards(RowPerAggregate):
    """Concerns with everything a scorecard counts, per owner, grid and collector."""

    name = "scorecards"
    version = 1
    topics = CONCERN_TOPICS
    tables = (
        Table(
            TABLE,
            "id TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL,"
            " grid TEXT NOT NULL, collector TEXT NOT NULL, owner TEXT,"
            " raised_at TEXT NOT NULL, assigned_at TEXT, first_action_at TEXT,"
            " resolved INTEGER NOT NULL, resolved_on_time INTEGER,"
            " reopened INTEGER NOT NULL, extended INTEGER NOT NULL,"
            " feedback INTEGER NOT NULL, satisfied INTEGER, missed TEXT NOT NULL,"
            " exempt TEXT NOT NULL, yellow INTEGER NOT NULL, red INTEGER NOT NULL,"
            " voided INTEGER NOT NULL, version BIGINT NOT NULL, position BIGINT NOT NULL",
            {"raised": "(raised_at)", "grid": "(grid, raised_at)"},
        ),
    )
    row_table = TABLE
    creations = frozenset({"Concern.Raised"})
    columns = (
        "id",
        "reference",
        "title",
        "grid",
        "collector",
        "owner",
        "raised_at",
        "assigned_at",
        "first_action_at",
        "resolved",
        "resolved_on_time",
        "reopened",
        "extended",
        "feedback",
        "satisfied",
        "missed",
        "exempt",
        "yellow",
        "red",
        "voided",
        "version",
        "position",
    )

    def fold(self, row: Row | None, recorded: Recorded) -> Row | None:
        """A new row on Raised; otherwise the row with what the event changed."""
        e = recorded.event
        kind = type(e).__name__
        if kind == "Raised":
            return {
                **dict.fromkeys(self.columns),
                "id": str(e.originator_id),
                "reference": e.reference,
                "title": e.title,
                "grid": e.grid,
                "collector": e.actor_id,
                "raised_at": utc_text(e.at),
                "resolved": 0,
                "reopened": 0,
                "extended": 0,
                "feedback": 0,
                "missed": "",
                "exempt": "",
                "yellow": 0,
                "red": 0,
                "voided": 0,
                "version": e.originator_version,
                "position": recorded.position,
            }
        if row is None:  # an event of a concern whose Raised this table never saw
            return None
        row.update(version=e.originator_version, position=recorded.position)
        _fold_fact(row, kind, e)
        return row


def _fold_fact(row: Row, kind: str, e: Any) -> None:
    at = utc_text(e.at)
    if kind in OWNER_SET:
        row["owner"] = str(e.owner)
        if kind != "Reassigned" and row["assigned_at"] is None:
            row["assigned_at"] = at
    elif kind in OWNER_ACTIONS and row["assigned_at"] and not row["first_action_at"]:
        row["first_action_at"] = at
    if kind == "Resolved":
        row.update(resolved=1, resolved_on_time=int(e.on_time))
    elif kind == "Reopened":
        row["reopened"] = 1
    elif kind == "DeadlineExtended":
        row["extended"] = 1
    elif kind == "FeedbackRecorded":
        row.update(feedback=1, satisfied=int(e.satisfaction in SATISFIED))
    elif kind == "StageMissed":
        row["missed"] = _add(row["missed"], e.stage)
    elif kind == "AppealDecided" and e.approved:
        row["exempt"] = _add(row["exempt"], e.stage)
    elif kind == "SupervisionCardIssued":
        column = "red" if e.grade == "red" else "yellow"
        row[column] = int(row[column]) + 1
    elif kind == "VoidApproved":
        # Folded by its name: the concern leaves every denominator, its history stays.
        row["voided"] = 1


def on_time(row: Row) -> bool:
    """A resolved concern closed on time: its latest resolution by the due date and no
    stage before it recorded overdue, but for the stages an approved appeal exempts."""
    exempt = set(str(row["exempt"] or "").split(","))
    late = {s for s in str(row["missed"] or "").split(",") if s in CLOSURE_STAGES}
    if not row["resolved_on_time"]:
        late.add("handling")
    return bool(row["resolved"]) and not (late - exempt)


def scorecard_rows(
    db: Database,
    start: date | None,
    end: date | None,
    scope: frozenset[str],
    zone: tzinfo,
) -> list[Row]:
    """The rows of the concerns raised from `start` to `end` (local dates of `zone`, both
    included, either open) in the caller's grids (empty scope: every grid), voids kept."""
    where: list[str] = []
    params: list[Any] = []
    if start is not None:
        where.append("raised_at >= ?")
        params.append(utc_text(datetime.combine(start, time(), zone)))
    if end is not None:
        where.append("raised_at < ?")
        params.append(utc_text(datetime.combine(end + timedelta(days=1), time(), zone)))
    if scope:
        where.append(f"grid IN ({', '.join('?' * len(scope))})")
        params.extend(sorted(scope))
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT * FROM {TABLE}{clause} ORDER BY raised_at, reference"  # noqa: S608
    return [{c: r[c] for c in Scorecards.columns} for r in db.fetchall(sql, tuple(params))]
