"""The community's public board (八公开): what `/public/board` and its printable page show.

The last meetings' decisions (items, outcomes, the tally of open ballots and the votes
needed; never who chose what), the commitments board, the month's public ledger figures
(any count under 5 shown as "< 5", so a small number cannot point at a household) and the
posts with the members who agreed to be shown. Nothing personal.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from application.minqing import Minqing
from domain.errors import DomainError
from domain.voting import THRESHOLDS, Outcome
from projections import commitments
from projections.commitments import CommitmentQuery
from projections.ledger import Selection, month_bounds, read_ledger
from projections.ledger_figures import FIGURES, Clock

MEETINGS = 3
SMALL = 5


def small(value: int) -> int | str:
    """A count as published: under 5 becomes "< 5"."""
    return f"< {SMALL}" if value < SMALL else value


def decisions(app: Minqing, last: int = MEETINGS) -> list[dict[str, Any]]:
    """The last closed meetings, newest first, with each decided item's outcome."""
    closed = [m for m in app.list_meetings() if m.closed_at is not None]
    closed.sort(key=lambda m: m.closed_at or m.scheduled_for, reverse=True)
    found = []
    for meeting in closed[:last]:
        rules = meeting.parsed_rules
        items = []
        for concern_id in meeting.agenda:
            item = meeting.items[str(concern_id)]
            tally = item.get("tally")
            if not tally:
                continue
            try:
                concern = app.get_concern(concern_id)
                title, reference = concern.title, concern.reference
            except DomainError:
                continue
            entitled, present = int(tally["entitled"]), int(tally["present"])
            items.append(
                {
                    "reference": reference,
                    "title": title,
                    "outcome": tally["outcome"],
                    "outcome_label": {
                        "zh": Outcome(tally["outcome"]).zh,
                        "en": Outcome(tally["outcome"]).en,
                    },
                    "votes_needed": THRESHOLDS[rules.threshold].needed(entitled, present),
                    "entitled": entitled,
                    "present": present,
                    # Counts only, and only for an open ballot.
                    "tally": None
                    if rules.secret
                    else {k: int(tally[k]) for k in ("for", "against", "abstain")},
                }
            )
        found.append(
            {
                "title": meeting.title,
                "kind": meeting.kind,
                "held_on": meeting.scheduled_for.astimezone(app.zone).date().isoformat(),
                "ballot": rules.ballot,
                "items": items,
            }
        )
    return found


def ledger_figures(app: Minqing, month: str, response_window_days: float) -> dict[str, Any]:
    """The month's count figures of the ledger, each under 5 shown as "< 5"."""
    first, last = month_bounds(month)
    clock = Clock(app.clock(), app.zone, timedelta(days=response_window_days))
    ledger = read_ledger(app.db, Selection(start=first, end=last), (), clock)
    values = ledger["totals"]["figures"]
    return {
        "month": month,
        "figures": [
            {"name": f.name, "label": {"zh": f.zh, "en": f.en}, "value": small(int(values[f.name]))}
            for f in FIGURES
            if f.kind in ("count", "distinct") and values.get(f.name) is not None
        ],
    }


def posts(app: Minqing, shown: dict[str, str]) -> list[dict[str, Any]]:
    """Every post with its seats, how many are taken and the names of those shown."""
    return [
        {
            "name": p.name,
            "grid": p.grid,
            "duties": p.duties,
            "seats": p.seats,
            "claimed": len(p.holders),
            "members_shown": [shown[str(m)] for m in p.holders if str(m) in shown],
        }
        for p in app.list_posts()
    ]


def board(app: Minqing, month: str | None, response_window_days: float) -> dict[str, Any]:
    """Everything the board shows; `month` YYYY-MM (default: this month)."""
    today: date = app.clock().astimezone(app.zone).date()
    chosen = month or today.strftime("%Y-%m")
    shown = app.members_shown_in_public()
    return {
        "meetings": decisions(app),
        "commitments": commitments.board(app.db, CommitmentQuery(), shown),
        "ledger": ledger_figures(app, chosen, response_window_days),
        "posts": posts(app, shown),
    }
