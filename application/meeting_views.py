"""Meetings as plain data: the live view with tallies, and the minutes a secretary files."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.minqing import Minqing
from domain.errors import DomainError
from domain.meeting import ItemStatus, Meeting, MeetingKind, MeetingStatus
from domain.plain import plain
from domain.voting import QUORUMS, THRESHOLDS, Outcome, Rules


def member_names(
    app: Minqing, ids: list[UUID], known: dict[UUID, str] | None = None
) -> list[dict[str, str]]:
    """Each member's id and name ("?" for one not found)."""
    # `known`: the names a view has looked up already (the minutes name each voter up to
    # three times: entitled, present or absent, and in the movements).
    known = {} if known is None else known
    found = []
    for member_id in ids:
        if member_id not in known:
            try:
                known[member_id] = app.get_member(member_id).name
            except DomainError:
                known[member_id] = "?"
        found.append({"id": str(member_id), "name": known[member_id]})
    return found


def _representatives(app: Minqing, meeting: Meeting) -> dict[str, Any]:
    """The representatives' names (decrypted; an erased one is counted, not named) and
    their pseudonyms, which an admin erases like a resident's."""
    found = app.representatives_of(meeting)
    return {
        "resident_representatives": [r["name"] for r in found if r["name"] is not None],
        "resident_representatives_erased": sum(1 for r in found if r["name"] is None),
        "resident_representative_refs": [r["resident_ref"] for r in found if r["resident_ref"]],
    }


def _decided_assignment(app: Minqing, meeting_id: UUID, concern_id: UUID) -> dict[str, Any]:
    """Owner, duty role and due date as named after this meeting adopted the item.

    Read from the concern's history, not its current state: a later reassignment, extension
    or another meeting's decision must not rewrite these minutes.
    """
    adopted = False
    for e in app.history(concern_id):
        if e["type"] == "AdoptedAtMeeting" and e["data"]["meeting_id"] == str(meeting_id):
            adopted = True
        elif adopted and e["type"] == "Assigned":
            data = e["data"]
            return {
                "owner": data["owner"],
                "duty_role": data["duty_role"],
                "due_on": data["due_on"],
            }
    return {"owner": None, "duty_role": None, "due_on": None}


def _item(app: Minqing, meeting: Meeting, concern_id: UUID) -> dict[str, Any]:
    item = meeting.items[str(concern_id)]
    concern = app.get_concern(concern_id)
    decided = item["status"] == ItemStatus.DECIDED
    tally = item["tally"] if decided else meeting.tally(concern_id).as_dict()
    view: dict[str, Any] = {
        "concern_id": str(concern_id),
        "reference": concern.reference,
        "title": concern.title,
        "category": concern.category,
        "status": item["status"],
        "tally": plain(tally),
        "outcome": tally["outcome"] if decided else None,
        "concern_status": concern.status,
        **_decided_assignment(app, meeting.id, concern_id),
    }
    secret = Rules(**meeting.rules).secret
    if secret and not decided:
        # While a secret vote is open only the number voted shows: counts that move with
        # each vote would let someone watching pair voters with choices.
        view["tally"] = {"voted": len(item["votes"])}
    if not secret:
        view["votes"] = [
            {"voter": voter, "choice": v["choice"], "by_chair": v["by_chair"]}
            for voter, v in item["votes"].items()
        ]
    return view


def meeting_view(app: Minqing, meeting: Meeting) -> dict[str, Any]:
    """The meeting with its agenda, attendance, quorum and live tallies.

    A secret ballot shows counts only: who voted how is never listed.
    """
    rules = Rules(**meeting.rules)
    entitled = len(meeting.eligible_voters)
    present = len(meeting.entitled_present())
    return {
        "id": str(meeting.id),
        "version": meeting.version,
        "title": meeting.title,
        "kind": meeting.kind,
        "kind_label": {"zh": MeetingKind(meeting.kind).zh, "en": MeetingKind(meeting.kind).en},
        "status": meeting.status,
        "scheduled_for": plain(meeting.scheduled_for),
        "place": meeting.place,
        "chair": str(meeting.chair),
        "deputy_chair": plain(meeting.deputy_chair),
        "eligible_voters": [str(m) for m in meeting.eligible_voters],
        "rules": rules.as_dict(),
        "present": [str(m) for m in meeting.present],
        **_representatives(app, meeting),
        "quorum": {
            "rule": rules.quorum,
            "entitled": entitled,
            "present": present,
            "reached": meeting.status != MeetingStatus.SCHEDULED
            and QUORUMS[rules.quorum].reached(present, entitled),
        },
        "agenda": [_item(app, meeting, c) for c in meeting.agenda],
        "opened_at": plain(meeting.opened_at),
        "closed_at": plain(meeting.closed_at),
        "minutes": meeting.minutes,
    }


def votes_needed(meeting: Meeting, present: int) -> int:
    """The fewest votes for that adopt an item under the meeting's threshold."""
    return THRESHOLDS[meeting.parsed_rules.threshold].needed(len(meeting.eligible_voters), present)


def _judged(meeting: Meeting, concern_id: str) -> dict[str, Any]:
    """The quorum the item's vote opened on (as it stands now if it never opened)."""
    recorded: dict[str, Any] | None = meeting.items[concern_id].get("quorum")
    return recorded or meeting.quorum_now().as_dict()


def minutes(app: Minqing, meeting: Meeting) -> dict[str, Any]:
    """The record of the meeting: attendance, each item, its tally, the decision, who and when."""
    view = meeting_view(app, meeting)
    present = set(meeting.present)
    known: dict[UUID, str] = {}
    decisions = {
        Outcome.ADOPTED.value: Outcome.ADOPTED,
        Outcome.REJECTED.value: Outcome.REJECTED,
        Outcome.DEFERRED.value: Outcome.DEFERRED,
    }
    items = []
    for item in view["agenda"]:
        owner = None
        if item["owner"]:
            owner = member_names(app, [UUID(item["owner"])], known)[0]
        outcome = decisions.get(item["outcome"] or "")
        items.append(
            {
                **{k: item[k] for k in ("reference", "title", "category", "tally")},
                "decision": item["outcome"],
                "decision_label": {"zh": outcome.zh, "en": outcome.en} if outcome else None,
                "owner": owner,
                "duty_role": item["duty_role"],
                "due_on": item["due_on"],
                "quorum": _judged(meeting, item["concern_id"]),
                "votes_needed": votes_needed(
                    meeting, _judged(meeting, item["concern_id"])["present"]
                ),
                **({"votes": item["votes"]} if "votes" in item else {}),
            }
        )
    return {
        "meeting": {
            k: view[k]
            for k in ("id", "title", "kind", "kind_label", "status", "scheduled_for", "place")
        },
        "chair": member_names(app, [meeting.chair], known)[0],
        "rules": view["rules"],
        "attendance": {
            "entitled": member_names(app, meeting.eligible_voters, known),
            "present": member_names(app, meeting.present, known),
            "absent": member_names(
                app, [m for m in meeting.eligible_voters if m not in present], known
            ),
            "resident_representatives": view["resident_representatives"],
            "resident_representatives_erased": view["resident_representatives_erased"],
            "quorum": {**view["quorum"], "needed": meeting.quorum_now().needed},
            # Late arrivals and departures after opening, in order, with their times.
            "changes": [
                {
                    "member": member_names(app, [c["member"]], known)[0],
                    "change": c["change"],
                    "at": plain(c["at"]),
                }
                for c in meeting.movements
            ],
        },
        "article": meeting.quorum_now().article,
        "inquorate": plain(meeting.inquorate),
        "items": items,
        "minutes": meeting.minutes,
        "opened_at": view["opened_at"],
        "closed_at": view["closed_at"],
    }
