"""The commitments board (承诺一件、兑现一件、注销一件, `minqing_commitments`): every concern a
meeting adopted or someone assigned is a commitment, in public until fulfilled and written off.

A commitment's `stage`:
- `in_progress` (承诺中) from the adoption or the first assignment on, and again after a
  reopening (the earlier rounds stay in the concern's history);
- `fulfilled` (已兑现) when the resident's feedback says solved and at least basically
  satisfied (feedback that reopens is followed by `Reopened`, which puts it back);
- `written_off` (已注销) when staff wrote it off after fulfilment (`WrittenOff`).
A commitment that ends undone (declined, withdrawn or merged after being sent back to the
committee, rejected by a later meeting, or voided — 作废: it did not meet the filing
conditions) leaves the board.

Milestones (承诺节点) are kept as JSON text on the row; progress is done ÷ all. The row is
publishable: no resident, no tracking code; the owner's member id is kept only so the board
can name members who agreed to be shown (党员亮身份), a choice read from the member registry
when the board is asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.database import Database
from domain.vocabulary import Category, DutyRole, Labelled
from projections.concerns import CONCERN_TOPICS, utc_text
from projections.rows import Row, RowPerAggregate
from projections.runner import Recorded, Table

TABLE = "minqing_commitments"


class Stage(Labelled):
    IN_PROGRESS = ("in_progress", "承诺中", "In progress")
    FULFILLED = ("fulfilled", "已兑现", "Fulfilled")
    WRITTEN_OFF = ("written_off", "已注销", "Written off")


_ENDS = frozenset({"RejectedAtMeeting", "Declined", "Withdrawn", "Merged", "VoidApproved"})
_KINDS = frozenset(
    {
        "Raised",
        "HandledNow",
        "Assigned",
        "AdoptedAtMeeting",
        "Reassigned",
        "DeadlineExtended",
        "Resumed",
        "SentBack",
        "FeedbackRecorded",
        "Reopened",
        "MilestoneAdded",
        "MilestoneDone",
        "WrittenOff",
        *_ENDS,
    }
)
TOPICS: tuple[str, ...] = tuple(t for t in CONCERN_TOPICS if t.rpartition(".")[2] in _KINDS)


class Commitments(RowPerAggregate):
    """One row per concern; those with a `stage` are on the commitments board."""

    name = "commitments"
    # 2: a voided commitment leaves the board (version 1 kept it "in progress" for ever).
    version = 2
    topics = TOPICS
    tables = (
        Table(
            TABLE,
            "id TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL,"
            " category TEXT NOT NULL, grid TEXT NOT NULL, round INTEGER NOT NULL,"
            " owner TEXT, duty_role TEXT, due_on TEXT, stage TEXT, committed_at TEXT,"
            " committed_on TEXT, fulfilled_on TEXT, written_off_on TEXT,"
            " milestones TEXT NOT NULL",
            {"stage": "(stage, committed_at)", "grid": "(grid, committed_at)"},
        ),
    )
    row_table = TABLE
    creations = frozenset({"Concern.Raised"})
    columns = (
        "id",
        "reference",
        "title",
        "category",
        "grid",
        "round",
        "owner",
        "duty_role",
        "due_on",
        "stage",
        "committed_at",
        "committed_on",
        "fulfilled_on",
        "written_off_on",
        "milestones",
    )

    def fold(self, row: Row | None, recorded: Recorded) -> Row | None:
        """The concern's row; on, moved along or off the board as the event says."""
        e = recorded.event
        kind = type(e).__name__
        if kind == "Raised":
            return {
                **dict.fromkeys(self.columns),
                "id": str(e.originator_id),
                "reference": e.reference,
                "title": e.title,
                "category": e.category,
                "grid": e.grid,
                "round": 1,
                "milestones": "[]",
            }
        if row is None:  # an event of a concern whose Raised this table never saw
            return None
        if kind in ("HandledNow", "Assigned", "AdoptedAtMeeting"):
            if kind != "AdoptedAtMeeting":
                row.update(owner=str(e.owner), duty_role=e.duty_role, due_on=e.due_on.isoformat())
            if row["stage"] is None:
                row.update(stage=Stage.IN_PROGRESS.value, committed_at=utc_text(e.at))
                row["committed_on"] = e.at.date().isoformat()
        elif kind == "Reassigned":
            row.update(owner=str(e.owner), duty_role=e.duty_role)
        elif kind == "DeadlineExtended":
            row["due_on"] = e.due_on.isoformat()
        elif kind == "Resumed" and e.due_on is not None:
            row["due_on"] = e.due_on.isoformat()  # moved later by the suspended time
        elif kind == "SentBack":
            row.update(owner=None, duty_role=None, due_on=None)
        elif kind in _ENDS:
            row.update(stage=None, committed_at=None, committed_on=None)
        elif kind == "FeedbackRecorded":
            if e.solved and e.satisfaction != "dissatisfied" and row["stage"] is not None:
                row.update(stage=Stage.FULFILLED.value, fulfilled_on=e.at.date().isoformat())
        elif kind == "WrittenOff":
            row.update(stage=Stage.WRITTEN_OFF.value, written_off_on=e.at.date().isoformat())
        elif kind == "Reopened":
            row.update(round=int(row["round"]) + 1, fulfilled_on=None, written_off_on=None)
            if row["stage"] is not None:
                row["stage"] = Stage.IN_PROGRESS.value
        elif kind in ("MilestoneAdded", "MilestoneDone"):
            row["milestones"] = _milestones(row["milestones"], kind, e)
        return row


def _milestones(raw: str, kind: str, e: Any) -> str:
    found: list[dict[str, Any]] = json.loads(raw)
    if kind == "MilestoneAdded":
        found.append(
            {
                "id": str(e.milestone_id),
                "title": e.title,
                "due_on": e.due_on.isoformat(),
                "done_on": None,
            }
        )
    else:
        for m in found:
            if m["id"] == str(e.milestone_id):
                m["done_on"] = e.at.date().isoformat()
    return json.dumps(found, ensure_ascii=False, separators=(",", ":"))


# -- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitmentQuery:
    """Filters of the board: stages (empty: all three) and grids (empty: all)."""

    stages: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()


def list_commitments(db: Database, query: CommitmentQuery) -> list[Any]:
    """The board's rows, the latest commitment first."""
    where: list[str] = ["stage IS NOT NULL"]
    params: list[Any] = []
    for column, values in (("stage", query.stages), ("grid", query.grids)):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    sql = (
        f"SELECT * FROM {TABLE} WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY committed_at DESC, id DESC"
    )
    return db.fetchall(sql, tuple(params))


def board(db: Database, query: CommitmentQuery, shown: dict[str, str]) -> dict[str, Any]:
    """The board's entries and the count in each status (`shown`: member id → name of the
    members who agreed to be shown)."""
    items = [entry(r, shown) for r in list_commitments(db, query)]
    counts = {s.value: sum(1 for i in items if i["status"] == s.value) for s in Stage}
    return {"items": items, "counts": counts}


def progress(milestones: list[dict[str, Any]]) -> int | None:
    """Per cent of the milestones done (done ÷ all), rounded down; None without any."""
    if not milestones:
        return None
    return 100 * sum(1 for m in milestones if m["done_on"]) // len(milestones)


def _label(kind: type[Labelled], value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    found = kind(value)
    return {"zh": found.zh, "en": found.en}


def entry(row: Any, shown: dict[str, str]) -> dict[str, Any]:
    """A commitment as the public board shows it: nothing personal; the owner's name only
    when that member agreed to be shown (`shown`: member id → name)."""
    milestones = json.loads(row["milestones"])
    return {
        "id": row["id"],
        "reference": row["reference"],
        "title": row["title"],
        "category": row["category"],
        "category_label": _label(Category, row["category"]),
        "grid": row["grid"],
        "status": row["stage"],
        "status_label": _label(Stage, row["stage"]),
        "duty_role": row["duty_role"],
        "duty_role_label": _label(DutyRole, row["duty_role"]),
        "member_name": shown.get(row["owner"] or ""),
        "due_on": row["due_on"],
        "committed_on": row["committed_on"],
        "fulfilled_on": row["fulfilled_on"],
        "written_off_on": row["written_off_on"],
        "round": int(row["round"]),
        "milestones": [{**m, "done": m["done_on"] is not None} for m in milestones],
        "progress": progress(milestones),
    }
