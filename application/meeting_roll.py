"""The roll of one agenda item's vote: who is entitled, present, has voted and has not yet,
and the votes needed to adopt; never what anyone chose."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.meeting_views import member_names, votes_needed
from application.minqing import Minqing
from domain.errors import NotFound
from domain.meeting import ItemStatus, Meeting


def roll_counts(meeting: Meeting, concern_id: UUID) -> dict[str, Any]:
    """The roll as ids and counts, from the meeting alone (the live tally polls it)."""
    item = meeting.items.get(str(concern_id))
    if item is None:
        raise NotFound("agenda item", concern_id)
    voted = set(item["votes"])
    present = [str(m) for m in meeting.entitled_present()]
    quorum = item.get("quorum") or meeting.quorum_now().as_dict()
    voting = item["status"] == ItemStatus.VOTING
    return {
        "status": item["status"],
        "entitled": [str(m) for m in meeting.eligible_voters],
        "present": present,
        # Sorted, not in the order cast: the order must not line up with anything.
        "voted": sorted(voted),
        "not_yet": [m for m in present if m not in voted] if voting else [],
        "quorum": quorum,
        "votes_needed": votes_needed(meeting, quorum["present"]),
    }


def roll(app: Minqing, meeting: Meeting, concern_id: UUID) -> dict[str, Any]:
    """The roll with names, for the chair during the vote and supervisors after."""
    ids = roll_counts(meeting, concern_id)
    named = {p["id"]: p for p in member_names(app, meeting.eligible_voters)}

    def people(key: str) -> list[dict[str, str]]:
        return [named[m] for m in ids[key] if m in named]

    return {
        "meeting_id": str(meeting.id),
        "concern_id": str(concern_id),
        "status": ids["status"],
        "ballot": meeting.parsed_rules.ballot,
        "entitled": people("entitled"),
        "present": people("present"),
        "voted": people("voted"),
        "not_yet": people("not_yet"),
        "counts": {k: len(ids[k]) for k in ("entitled", "present", "voted", "not_yet")},
        "quorum": ids["quorum"],
        "votes_needed": ids["votes_needed"],
    }
