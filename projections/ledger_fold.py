"""How each event changes the ledger's rows (projections/ledger.py holds their tables and
the queries that read them): a concern's row folded event by event, a visit's row made from
its one event.

Pure: the row as it stands and the event in, the row out; no database (projections/rows.py
reads and writes the batch's rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.lifecycle import Status
from projections.concern_fold import utc_text
from projections.rows import Row
from projections.runner import Recorded

# A concern's row: the columns of the concerns' table, in the order of its definition.
COLUMNS = (
    "id",
    "reference",
    "title",
    "status",
    "category",
    "library",
    "grid",
    "raised_at",
    "referred_at",
    "shortlisted_at",
    "adopted_at",
    "assigned_at",
    "first_action_at",
    "due_on",
    "resolved_at",
    "resolved_on_time",
    "resolutions",
    "decline_reason",
    "feedback_count",
    "solved",
    "satisfaction",
    "reopened_count",
    "extended_count",
    "version",
    "position",
    "residents",
    "suspended_count",
    "overdue_stages",
    "exempt_stages",
)

# The first time each of these happened; later repeats (a second referral after a
# return for information, a second meeting after a deferral) keep the first.
_FIRST_TIME = {
    "Referred": "referred_at",
    "Shortlisted": "shortlisted_at",
    "AdoptedAtMeeting": "adopted_at",
    "HandledNow": "assigned_at",
    "Assigned": "assigned_at",
}
# The owner's first action after an assignment: the response rate's clock stops here.
_OWNER_ACTIONS = frozenset({"ProgressRecorded", "Resolved", "SentBack"})


def fold_concern(row: Row | None, recorded: Recorded) -> Row | None:
    """A concern's row after one event: a new row on Raised; otherwise the row (a copy the
    fold may change) with what the event changed; None before the concern has a row."""
    e = recorded.event
    kind = type(e).__name__
    if kind == "Raised":
        return {
            **dict.fromkeys(COLUMNS),
            "id": str(e.originator_id),
            "reference": e.reference,
            "title": e.title,
            "status": Status.INTAKE.value,
            "category": e.category,
            "library": e.library,
            "grid": e.grid,
            "raised_at": utc_text(e.at),
            "resolutions": 0,
            "feedback_count": 0,
            "reopened_count": 0,
            "extended_count": 0,
            "version": e.originator_version,
            "position": recorded.position,
            # A proactive concern (from a hotspot) was raised by no resident.
            "residents": 0 if getattr(e, "kind", "resident") == "proactive" else 1,
            "suspended_count": 0,
        }
    if row is None:  # an event of a concern whose Raised this table never saw
        return None
    at = utc_text(e.at)
    row.update(version=e.originator_version, position=recorded.position)
    # Facts (DeadlineMissed, FeedbackOverdue) carry no status and change none.
    if (status := getattr(e, "status", None)) is not None:
        row["status"] = status
    if kind in _FIRST_TIME and row[_FIRST_TIME[kind]] is None:
        row[_FIRST_TIME[kind]] = at
    if kind in _OWNER_ACTIONS and row["first_action_at"] is None:
        row["first_action_at"] = at
    if kind in ("HandledNow", "Assigned", "DeadlineExtended"):
        row["due_on"] = e.due_on.isoformat()
    if kind == "DeadlineExtended":
        row["extended_count"] = int(row["extended_count"]) + 1
    elif kind == "SentBack":
        row["due_on"] = None  # the assignment ends; a new one sets its own
    elif kind == "Resolved":
        row.update(resolved_at=at, resolved_on_time=int(e.on_time))
        row["resolutions"] = int(row["resolutions"]) + 1
    elif kind == "Reopened":
        row.update(resolved_at=None, resolved_on_time=None)
        row["reopened_count"] = int(row["reopened_count"]) + 1
    elif kind in ("Declined", "RejectedAtMeeting"):
        row["decline_reason"] = e.reason
    elif kind == "CosignerAdded":
        row["residents"] = int(row["residents"]) + 1
    elif kind == "Merged":
        row["residents"] = 0  # moved to the surviving concern as its co-signers
    elif kind == "FeedbackRecorded":
        row.update(solved=int(e.solved), satisfaction=e.satisfaction)
        row["feedback_count"] = int(row["feedback_count"]) + 1
    elif kind == "SuspensionApproved":
        row["suspended_count"] = int(row["suspended_count"] or 0) + 1
    elif kind == "Resumed" and e.due_on is not None:
        row["due_on"] = e.due_on.isoformat()  # moved later by the suspended time
    elif kind in _OVERDUE:
        row["overdue_stages"] = _with(row["overdue_stages"], _OVERDUE[kind](e))
    elif kind == "AppealDecided" and e.approved:
        row["exempt_stages"] = _with(row["exempt_stages"], e.stage)
    return row


# The overdue facts, and the stage each says ran past its limit (as domain/appeals.py's
# `overdue_stages` reads them).
_OVERDUE: dict[str, Callable[[Any], str]] = {
    "StageMissed": lambda e: str(e.stage),
    "DeadlineMissed": lambda e: "handling",
    "FeedbackOverdue": lambda e: "feedback",
}


def _with(stages: str | None, stage: str) -> str:
    """A comma-separated set of stages, with `stage` added (sorted, each once)."""
    return ",".join(sorted({*(stages or "").split(","), stage} - {""}))


VISIT_COLUMNS = (
    "id",
    "grid",
    "household_key",
    "visited_on",
    "priority_visit",
    "recorded_by",
    "recorded_at",
    "concern_count",
    "position",
)


def visit_row(recorded: Recorded) -> Row:
    """A visit's row: the household as a key only."""
    e = recorded.event
    # Visits recorded before households were sealed carry the text and no key.
    key = getattr(e, "household_key", None) or recorded.app.keyring.household_key(
        e.grid, e.household
    )
    return {
        "id": str(e.originator_id),
        "grid": e.grid,
        "household_key": key,
        "visited_on": e.visited_on.isoformat(),
        "priority_visit": e.priority_visit,
        "recorded_by": e.actor_id,
        "recorded_at": utc_text(e.at),
        "concern_count": len(e.concern_ids),
        "position": recorded.position,
    }
