"""What needs the signed-in person's action: votes open for them, their assignments due
soon or overdue, and what waits for a decision their roles take (concerns in intake, with
the committee, past their due date). The inbox page lists them; the navigation shows the
counts (`nav_counts`), cheaply: COUNT queries on the concern list, and the meetings in
session read at most once every `MEETINGS_TTL` seconds per process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from api.ui import data
from application.minqing import Minqing
from domain.meeting import ItemStatus, Meeting, MeetingStatus
from domain.principal import Principal
from domain.vocabulary import Role
from projections import concerns as concern_list
from projections.concerns import ConcernQuery, Order

# An assignment is "due soon" this many days ahead (today included).
DUE_SOON_DAYS = 3
# Lists on the inbox show this many of each kind (the counts say how many in all).
SHOWN = 10
MEETINGS_TTL = 10.0
DECIDERS = {
    "triage": frozenset({Role.GRID_LEADER, Role.STAFF}),
    "committee": frozenset({Role.COMMITTEE, Role.CHAIR}),
    "overdue": frozenset({Role.COMMITTEE}),
}


@dataclass
class _OpenMeetings:
    """The meetings in session, kept for a few seconds (the navigation reads them often)."""

    at: float = -1e9
    meetings: list[Meeting] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, app: Minqing, fresh: bool) -> list[Meeting]:
        with self.lock:
            if fresh or time.monotonic() - self.at > MEETINGS_TTL:
                self.meetings = [
                    m for m in app.list_meetings() if m.status == MeetingStatus.OPEN.value
                ]
                self.at = time.monotonic()
            return list(self.meetings)


_OPEN = _OpenMeetings()


def open_votes(app: Minqing, principal: Principal, *, fresh: bool = False) -> list[dict[str, Any]]:
    """Items being voted on now where the person, present and entitled, has not voted."""
    member = principal.member_id
    if member is None or not principal.roles & {Role.MEMBER, Role.CHAIR}:
        return []
    found = []
    for meeting in _OPEN.get(app, fresh):
        if member not in meeting.entitled_present():
            continue
        for concern_id in meeting.agenda:
            item = meeting.items[str(concern_id)]
            if item["status"] == ItemStatus.VOTING.value and str(member) not in item["votes"]:
                found.append(
                    {
                        "meeting_id": str(meeting.id),
                        "meeting_title": meeting.title,
                        "concern_id": str(concern_id),
                        "href": f"/ui/meetings/{meeting.id}/vote",
                    }
                )
    return found


def _mine_due(app: Minqing, principal: Principal, today: date) -> list[dict[str, Any]]:
    """The person's assignments due within DUE_SOON_DAYS or overdue, most urgent first."""
    if principal.member_id is None:
        return []
    query, order = concern_list.queue_query("mine", principal.member_id, principal.grids)
    page = concern_list.list_concerns(
        app.db, query, today=today, zone=app.zone, order=order, limit=50
    )
    last = (today + timedelta(days=DUE_SOON_DAYS - 1)).isoformat()
    return [s for s in page.items if s["due_on"] is not None and s["due_on"] <= last]


def _waiting(app: Minqing, principal: Principal, today: date, name: str) -> dict[str, Any]:
    query, order = concern_list.queue_query(name, principal.member_id, principal.grids)
    if name == "overdue":
        query = ConcernQuery(overdue=True, scope=principal.grids)
        order = Order.DUE
    page = concern_list.list_concerns(
        app.db, query, today=today, zone=app.zone, order=order, limit=SHOWN
    )
    return {"name": name, "items": page.items, "total": data.count(app, query)}


def inbox(app: Minqing, principal: Principal) -> dict[str, Any]:
    """Everything that needs the person's action, by kind."""
    today = app.clock().date()
    decisions = [
        _waiting(app, principal, today, name)
        for name, roles in DECIDERS.items()
        if principal.roles & roles
    ]
    return {
        "votes": open_votes(app, principal, fresh=True),
        "due": _mine_due(app, principal, today),
        "decisions": [d for d in decisions if d["total"]],
        "today": today.isoformat(),
    }


def nav_counts(app: Minqing, principal: Principal) -> dict[str, int]:
    """Counts for the navigation by page address: the inbox's total, votes open, my tasks
    due soon or overdue, the triage and committee queues."""
    today = app.clock().date()
    counts: dict[str, int] = {}
    votes = len(open_votes(app, principal))
    due = len(_mine_due(app, principal, today))
    if votes:
        counts["/ui/vote"] = votes
    if due:
        counts["/ui/tasks"] = due
    total = votes + due
    for name, roles in DECIDERS.items():
        if principal.roles & roles:
            query, _ = concern_list.queue_query(name, None, principal.grids)
            n = data.count(app, query)
            total += n
            if n and name != "overdue":
                counts[f"/ui/{name}"] = n
    counts["/ui/inbox"] = total
    return counts
