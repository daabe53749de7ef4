"""How each event changes the concern list's row (projections/concerns.py holds its table
and the queries that read it), and the UTC text every read model stores its times as.

Pure: the row as it stands and the event in, the row out; no database (projections/rows.py
reads and writes the batch's rows).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from application.time_limits import event_mode
from domain.lifecycle import Status
from projections.rows import Row
from projections.runner import Recorded

# Lifecycle moves, with the event fields each copies into the column of the same name
# (Concern's own event methods are the reference: the list must equal their fold).
_MOVES: dict[str, tuple[str, ...]] = {
    "Referred": (),
    "HandledNow": ("owner", "duty_role", "due_on"),
    "Declined": (),
    "Merged": (),
    "Withdrawn": (),
    "Assigned": ("owner", "duty_role", "due_on"),
    "Shortlisted": (),
    "AdoptedAtMeeting": (),
    "RejectedAtMeeting": (),
    "DeferredAtMeeting": (),
    "ReturnedForInfo": (),
    "ProgressRecorded": (),
    "DeadlineExtended": ("due_on",),
    "Reassigned": ("owner", "duty_role"),
    "SentBack": (),
    "Resolved": (),
    "FeedbackRecorded": (),
    "Reopened": (),
}
# Facts recorded about a concern that leave its state as it was (but not its version).
_FACTS = frozenset(
    {
        "DeadlineMissed",
        "FeedbackOverdue",
        "StageMissed",
        "SupervisionCardIssued",
        "SupervisionReplied",
        "PhotoAttached",
        "SuspensionRequested",
        "SuspensionApproved",
        "SuspensionRefused",
        "Resumed",
    }
)


def card_mark(stage_since: str, grade: str) -> str:
    """What the list keeps of the last automatic card: its stage's start and its grade."""
    return f"{stage_since}|{grade}"


# Cached: the read models fed together each ask for the same event's time (the ledger
# twice, the concern list, achievements, open311 updates, concern places): one conversion.
@functools.lru_cache(maxsize=1024)
def utc_text(moment: datetime) -> str:
    """A time as fixed-width UTC text, so text order is time order on both databases."""
    # isoformat, not strftime: the same text (years 1000-9999), in half the time.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _value(v: Any) -> Any:
    if isinstance(v, UUID):
        return str(v)
    if isinstance(v, date):
        return v.isoformat()
    return v


def fold_concern(row: Row | None, recorded: Recorded) -> Row | None:
    """A concern's list row after one event: a new row on Raised; otherwise the row (a copy
    the fold may change) with what the event changed; None before the concern has a row."""
    e = recorded.event
    kind = type(e).__name__
    if kind == "Raised":
        at = utc_text(e.at)
        return {
            "id": str(e.originator_id),
            "reference": e.reference,
            "title": e.title,
            "description": e.description,
            "status": Status.INTAKE.value,
            "category": e.category,
            "library": e.library,
            "channel": e.channel,
            "grid": e.grid,
            "owner": None,
            "duty_role": None,
            "due_on": None,
            "raised_at": at,
            "updated_at": at,
            "resolved_at": None,
            "round": 1,
            "version": e.originator_version,
            "position": recorded.position,
            "feedback_pending": False,
            "missed_due_on": None,
            "feedback_overdue_round": None,
            "stage_since": at,
            "mode": None,
            "missed_stage_since": None,
            "cards": 0,
            "card_mark": None,
            "suspended_at": None,
            "resumed_at": None,
            "suspended_until": None,
        }
    if row is None:  # an event of a concern whose Raised this table never saw
        return None
    row.update(version=e.originator_version, position=recorded.position)
    # A fact (DeadlineMissed, FeedbackOverdue) changes neither status nor updated_at,
    # exactly as the aggregate records it; a move of the lifecycle carries its status.
    # An event kind added later is a move if it carries a status, a fact otherwise.
    moves = kind in _MOVES or (kind not in _FACTS and hasattr(e, "status"))
    if moves:
        if e.status != row["status"]:  # a new stage's clock starts
            row["stage_since"] = utc_text(e.at)
        row["mode"] = event_mode(e) or row["mode"]
        row["status"] = e.status
        row["updated_at"] = utc_text(e.at)
        for column in _MOVES.get(kind, ()):
            row[column] = _value(getattr(e, column))
    if kind == "SentBack":
        row.update(owner=None, duty_role=None, due_on=None)
    elif kind == "Resolved":
        row.update(resolved_at=utc_text(e.at), feedback_pending=True)
    elif kind == "FeedbackRecorded":
        row["feedback_pending"] = False
    elif kind == "Reopened":
        row.update(resolved_at=None, feedback_pending=False, round=int(row["round"]) + 1)
    elif kind == "DeadlineMissed":
        row["missed_due_on"] = _value(e.due_on)
    elif kind == "FeedbackOverdue":
        row["feedback_overdue_round"] = e.round
    elif kind == "StageMissed":
        row["missed_stage_since"] = utc_text(e.started_at)
    elif kind == "SupervisionCardIssued":
        row["cards"] = int(row["cards"]) + 1
        if e.automatic:
            row["card_mark"] = card_mark(utc_text(e.stage_started_at), e.grade)
    elif kind == "SuspensionApproved":
        row.update(suspended_at=utc_text(e.at), suspended_until=_value(e.until))
    elif kind == "Resumed":
        row.update(resumed_at=utc_text(e.ended), suspended_until=None, due_on=_value(e.due_on))
    return row
