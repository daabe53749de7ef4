"""Queries that answer from the event log itself (not a read model), as plain data: a
concern as its caller may see it, its history, the resident's public view, meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from application import history_events
from application.time_limits import TimeLimitCommands
from domain.concern import Concern
from domain.errors import NotFound
from domain.history_labels import describe
from domain.lifecycle import TERMINAL, Status
from domain.meeting import Meeting
from domain.permissions import actions_for, check_grid
from domain.plain import plain
from domain.principal import Principal
from domain.privacy import may_see_personal_data


class Views(TimeLimitCommands):
    """The reads of one concern or meeting, straight from its events."""

    def version_at(self, concern_id: UUID, moment: datetime) -> int:
        """The concern's version as recorded at `moment` (0 if it did not exist yet)."""
        when = moment if moment.tzinfo else moment.replace(tzinfo=self.zone)
        version = 0
        with self._reading(concern_id):
            for e in self.events.get(concern_id):
                if cast(Concern.Event, e).timestamp > when:
                    break
                version = e.originator_version
        return version

    def concern_view(self, concern: Concern, principal: Principal | None) -> dict[str, Any]:
        """The concern as plain data, with the caller's allowed actions and, if they may see
        it, the resident's decrypted personal data."""
        if principal is not None:
            check_grid(principal, concern.grid)
        view = _concern_data(concern)
        view["allowed_actions"] = actions_for(principal, concern) if principal else []
        view["cards"] = [plain(c) for c in concern.cards]
        # The appeal, and the stages it exempts: the overdue facts stay in the history.
        view["appeal"] = plain(concern.appeal)
        view["overdue_stages"] = concern.overdue_stages()
        view["exempt_stages"] = concern.exempt_stages()
        # Suspension (挂账): the request waiting, and the one approved (since, until, ended).
        view["suspension_request"] = plain(concern.suspension_request)
        view["suspension"] = plain(concern.suspension)
        view["void_proposal"] = plain(concern.void_proposal)
        view["voided"] = plain(concern.voided)
        view["resident"] = None
        if principal is not None and concern.resident_ref and concern.resident_data:
            if may_see_personal_data(principal, concern):
                data = self.keyring.open(concern.resident_ref, concern.resident_data)
                view["resident"] = data.as_dict() if data else {"erased": True}
            else:
                view["resident"] = {"redacted": True}
        return view

    def history(self, concern_id: UUID) -> list[dict[str, Any]]:
        """Every event of a concern in order: version, type, time, actor, role and data,
        with labels, reason and the fields it changed (domain.history_labels)."""
        # The events are read once and checked here rather than by replaying the concern
        # first: that replay cost as much again on a long history (bench/audit.py).
        found = history_events.entries(self.mapper, self.recorder.select_events(concern_id))
        if not found or not issubclass(found[0].event_class, Concern.Event):
            raise NotFound("concern", concern_id)
        for e in found:
            if e.data.get("unreadable"):  # listed in its place, by its position in the log
                version = e.data["version"]
                e.data["position"] = self.ports.positions.position_of(str(concern_id), version)
        return describe("Concern", [e.data for e in found])

    def public_view(self, concern: Concern) -> dict[str, Any]:
        """What a resident sees by tracking code: nothing personal, nothing internal."""
        # Each step with the status the concern was in after it: a fact (a card, a missed
        # deadline, a milestone) carries none and leaves the status as it was.
        steps, status = [], Status.INTAKE.value
        for e in self.history(concern.id):
            status = e["data"].get("status", status)
            steps.append({"type": e["type"], "at": e["at"], "status": status})
        return {
            "reference": concern.reference,
            "title": concern.title,
            "status": concern.status,
            "status_label": {"zh": Status(concern.status).zh, "en": Status(concern.status).en},
            "category": concern.category,
            "raised_on": concern.raised_at.date().isoformat(),
            "due_on": concern.due_on.isoformat() if concern.due_on else None,
            "resolved_on": concern.resolved_at.date().isoformat() if concern.resolved_at else None,
            "public_notes": _public_notes(concern),
            "awaiting_feedback": concern.feedback_pending,
            "steps": steps,
            **commitment_view(concern),
        }

    def list_meetings(self) -> list[Meeting]:
        """Every meeting, in the order they were scheduled."""
        return self._all_of(Meeting)

    def meeting_history(self, meeting_id: UUID) -> list[dict[str, Any]]:
        """Every event of a meeting in order; a secret ballot's choices are left out."""
        meeting = self.get_meeting(meeting_id)
        stored = self.recorder.select_events(meeting_id)
        events = [e.data for e in history_events.entries(self.mapper, stored)]
        if meeting.parsed_rules.secret:
            for e in events:
                e["data"].pop("choice", None)
                e["data"].pop("sealed_choice", None)
        return describe("Meeting", events)


def _concern_data(c: Concern) -> dict[str, Any]:
    status = Status(c.status)
    return {
        "id": str(c.id),
        "reference": c.reference,
        "version": c.version,
        "status": c.status,
        "status_label": {"zh": status.zh, "en": status.en},
        "title": c.title,
        "description": c.description,
        "category": c.category,
        "library": c.library,
        "channel": c.channel,
        "grid": c.grid,
        "building": c.building,
        "place": plain(c.place),
        "location": c.location,
        "priority_visit": c.priority_visit,
        "anonymous": c.anonymous,
        "resident_ref": c.resident_ref,
        "raised_at": plain(c.raised_at),
        "raised_by": c.raised_by,
        "updated_at": plain(c.updated_at),
        "owner": plain(c.owner),
        "duty_role": c.duty_role,
        "due_on": plain(c.due_on),
        "due_history": plain(c.due_history),
        "round": c.round,
        "progress": plain(c.progress),
        "summary": c.summary,
        "resolved_at": plain(c.resolved_at),
        "feedback": plain(c.feedback),
        "awaiting_feedback": c.feedback_pending,
        "reason": c.reason,
        "missing": c.missing,
        "merged_into": plain(c.merged_into),
        "meeting_id": plain(c.meeting_id),
        "residents_count": c.residents_count,
        # "proactive": raised by the system from a hotspot, with the concerns behind it.
        "kind": c.kind,
        "hotspot": plain(c.hotspot),
        "linked": list(c.linked),
        "cosigners": [
            {
                "resident_ref": j["resident_ref"],
                "anonymous": j["anonymous"],
                "channel": j["channel"],
                "from_concern": plain(j["from_concern"]),
                "at": plain(j["at"]),
            }
            for j in c.cosigners
        ],
        "milestones": plain(c.milestones),
        "written_off_at": plain(c.written_off_at),
    }


def commitment_view(c: Concern) -> dict[str, Any]:
    """The concern as a commitment (承诺): its stage, milestones and progress (done ÷ all)."""
    stage = None
    if c.written_off_at is not None:
        stage = "written_off"
    elif c.fulfilled:
        stage = "fulfilled"
    elif Status(c.status) not in TERMINAL and (c.due_history or c.adopted_at_meeting):
        stage = "in_progress"
    milestones = [
        {
            "id": str(m["id"]),
            "title": m["title"],
            "due_on": m["due_on"].isoformat(),
            "done": m["done_at"] is not None,
            "done_on": m["done_at"].date().isoformat() if m["done_at"] else None,
        }
        for m in c.milestones
    ]
    done = sum(1 for m in milestones if m["done"])
    return {
        "commitment": stage,
        "milestones": milestones,
        "progress": 100 * done // len(milestones) if milestones else None,
    }


def _public_notes(c: Concern) -> list[str]:
    notes = []
    if c.status == Status.DECLINED.value and c.reason:
        notes.append(c.reason)
    if c.summary:
        notes.append(c.summary)
    return notes
