"""The Concern aggregate: one matter a resident raised, from intake to resolution.

Its state and its events live here (their stored topics are `domain.concern:Concern.<Event>`,
filtered in SQL and hashed into the audit chain: they must not move); its commands, which
validate and choose the event, in domain/concern_commands.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.appeals import AppealCommands

# Assignment and Actor are imported from here too, as they always were.
from domain.concern_commands import Assignment as Assignment
from domain.concern_commands import ConcernCommands
from domain.extensions import ExtensionCommands
from domain.hotspots import proactive_concern_id
from domain.lifecycle import Facts, Status
from domain.principal import Actor as Actor
from domain.supervision import SupervisionCommands
from domain.suspensions import SuspensionCommands
from domain.voids import VoidCommands


class Concern(
    ConcernCommands,
    SupervisionCommands,
    ExtensionCommands,
    SuspensionCommands,
    AppealCommands,
    VoidCommands,
    Aggregate,
):
    """A resident's concern; every change is an event that names who and when."""

    @staticmethod
    def create_id(hotspot: UUID | None = None) -> UUID:
        # A proactive concern's id comes from its hotspot's: the second one conflicts.
        return proactive_concern_id(hotspot) if hotspot is not None else uuid4()

    @event("Raised")
    def __init__(
        self,
        *,
        reference: str,
        tracking_code: str,
        title: str,
        description: str,
        category: str,
        library: str,
        channel: str,
        grid: str,
        building: str | None,
        priority_visit: str | None,
        resident_ref: str | None,
        resident_data: str | None,
        anonymous: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
        # place and location came later: concerns raised before have neither (the default).
        place: UUID | None = None,
        location: dict[str, float] | None = None,
        # kind, hotspot and linked came with hotspots: a resident's concern (the default), or
        # a proactive one (主动治理) the system raised from a hotspot and its concerns' ids.
        kind: str = "resident",
        hotspot: UUID | None = None,
        linked: list[str] | None = None,
    ) -> None:
        self.reference = reference
        self.tracking_code = tracking_code
        self.title = title
        self.description = description
        self.category = category
        self.library = library
        self.channel = channel
        self.grid = grid
        self.building = building
        self.place = place
        # The exact WGS-84 point (staff only); public outputs show its coarse cell.
        self.location = location
        self.kind = kind
        self.hotspot = hotspot
        self.linked = list(linked or [])
        self.priority_visit = priority_visit
        self.resident_ref = resident_ref
        self.resident_data = resident_data
        self.anonymous = anonymous
        self.raised_by = actor_id
        self.raised_at = at
        self.status = Status.INTAKE.value
        self.owner: UUID | None = None
        self.duty_role: str | None = None
        self.due_on: date | None = None
        self.due_history: list[dict[str, Any]] = []
        self.round = 1
        self.adopted_at_meeting = False
        self.meeting_id: UUID | None = None
        self.feedback_pending = False
        self.feedback: list[dict[str, Any]] = []
        self.progress: list[dict[str, Any]] = []
        self.summary: str | None = None
        self.resolved_at: datetime | None = None
        self.reason: str | None = None
        self.missing: str | None = None
        self.merged_into: UUID | None = None
        self.missed_due_dates: list[date] = []
        self.feedback_overdue_rounds: list[int] = []
        # Each stage whose limit passed, as {"stage", "started_at"} (the watcher's facts).
        self.missed_stages: list[dict[str, Any]] = []
        # The commitment (承诺): its milestones, and whether it was written off (注销).
        self.milestones: list[dict[str, Any]] = []
        self.written_off_at: datetime | None = None
        self.photos: list[dict[str, Any]] = []
        # Supervision cards (督办), in the order issued: domain/supervision.py.
        self.cards: list[dict[str, Any]] = []
        # Extensions approved ({"round", "at"}) and the owner's request waiting, if any.
        self.extensions: list[dict[str, Any]] = []
        self.extension_request: dict[str, Any] | None = None
        # Suspension (挂账): the owner's request waiting, and the one approved (at most one
        # per concern: since, until, ended …), domain/suspensions.py.
        self.suspension_request: dict[str, Any] | None = None
        self.suspension: dict[str, Any] | None = None
        # The appeal of an overdue stage (超期申诉): at most one per concern.
        self.appeal: dict[str, Any] | None = None
        # The void (作废): the proposal waiting for a supervisor, and the approved void.
        self.void_proposal: dict[str, Any] | None = None
        self.voided: dict[str, Any] | None = None
        # Residents who joined this concern (co-signers), each sealed as the first one.
        self.cosigners: list[dict[str, Any]] = []
        self.updated_at = at

    @property
    def residents_count(self) -> int:
        """How many residents raised this matter: whoever raised it and the co-signers (a
        proactive concern was raised by nobody: only its co-signers count)."""
        return (0 if self.kind == "proactive" else 1) + len(self.cosigners)

    @property
    def facts(self) -> Facts:
        """What the lifecycle's guards see of this concern."""
        return Facts(
            adopted_at_meeting=self.adopted_at_meeting,
            feedback_pending=self.feedback_pending,
            fulfilled=self.fulfilled and self.written_off_at is None,
            milestone_open=any(m["done_at"] is None for m in self.milestones),
        )

    @property
    def fulfilled(self) -> bool:
        """Resolved, and the resident answered this round solved and at least basically
        satisfied (已兑现): an answer that reopens starts a new round instead."""
        return (
            self.status == Status.RESOLVED.value
            and not self.feedback_pending
            and any(f["round"] == self.round for f in self.feedback)
        )

    # -- events: only assign -------------------------------------------------------------

    @event("Referred")
    def _referred(
        self, status: str, note: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.status = status
        self.updated_at = at

    @event("HandledNow")
    def _handled_now(
        self,
        status: str,
        owner: UUID,
        duty_role: str,
        due_on: date,
        note: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.owner = owner
        self.duty_role = duty_role
        self.due_on = due_on
        self.due_history.append({"due_on": due_on, "set_at": at, "reason": None})
        self.updated_at = at

    @event("Declined")
    def _declined(
        self, status: str, reason: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.status = status
        self.reason = reason
        self.updated_at = at

    @event("Merged")
    def _merged(
        self, status: str, into: UUID, note: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.status = status
        self.merged_into = into
        self.updated_at = at

    @event("Withdrawn")
    def _withdrawn(
        self, status: str, reason: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.status = status
        self.reason = reason
        self.updated_at = at

    @event("Assigned")
    def _assigned(
        self,
        status: str,
        owner: UUID,
        duty_role: str,
        due_on: date,
        note: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.owner = owner
        self.duty_role = duty_role
        self.due_on = due_on
        self.due_history.append({"due_on": due_on, "set_at": at, "reason": None})
        self.adopted_at_meeting = False
        self.updated_at = at

    @event("Shortlisted")
    def _shortlisted(
        self,
        status: str,
        meeting_id: UUID,
        meeting_title: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.adopted_at_meeting = False
        self.meeting_id = meeting_id
        self.updated_at = at

    @event("AdoptedAtMeeting")
    def _adopted(
        self,
        status: str,
        meeting_id: UUID,
        tally: dict[str, Any],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.adopted_at_meeting = True
        self.updated_at = at

    @event("RejectedAtMeeting")
    def _rejected(
        self,
        status: str,
        meeting_id: UUID,
        tally: dict[str, Any],
        reason: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.adopted_at_meeting = False
        self.reason = reason
        self.meeting_id = None
        self.updated_at = at

    @event("DeferredAtMeeting")
    def _deferred(
        self,
        status: str,
        meeting_id: UUID,
        tally: dict[str, Any],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.adopted_at_meeting = False
        self.meeting_id = None
        self.updated_at = at

    @event("ReturnedForInfo")
    def _returned_for_info(
        self, status: str, missing: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.status = status
        self.missing = missing
        self.updated_at = at

    @event("ProgressRecorded")
    def _progress_recorded(
        self, status: str, note: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.status = status
        self.progress.append({"note": note, "at": at, "by": actor_id, "round": self.round})
        self.updated_at = at

    @event("DeadlineExtended")
    def _deadline_extended(
        self,
        status: str,
        due_on: date,
        previous_due_on: date | None,
        reason: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.due_on = due_on
        self.due_history.append({"due_on": due_on, "set_at": at, "reason": reason})
        self.extensions.append({"round": self.round, "at": at})
        self.extension_request = None  # approved
        self.updated_at = at

    @event("Reassigned")
    def _reassigned(
        self,
        status: str,
        owner: UUID,
        duty_role: str,
        previous_owner: UUID | None,
        reason: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.owner = owner
        self.duty_role = duty_role
        self.updated_at = at

    @event("SentBack")
    def _sent_back(
        self, status: str, reason: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.status = status
        self.reason = reason
        self.owner = None
        self.duty_role = None
        self.due_on = None
        self.updated_at = at

    @event("Resolved")
    def _resolved(
        self,
        status: str,
        summary: str,
        on_time: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.summary = summary
        self.resolved_at = at
        self.feedback_pending = True
        self.updated_at = at

    @event("FeedbackRecorded")
    def _feedback_recorded(
        self,
        status: str,
        solved: bool,
        satisfaction: str,
        comment: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.feedback_pending = False
        self.feedback.append(
            {"solved": solved, "satisfaction": satisfaction, "at": at, "round": self.round}
        )
        self.updated_at = at

    @event("DeadlineMissed")
    def _deadline_missed(
        self,
        due_on: date,
        owner: UUID | None,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.missed_due_dates.append(due_on)

    @event("FeedbackOverdue")
    def _feedback_overdue(
        self, round: int, window_days: int, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.feedback_overdue_rounds.append(round)

    @event("Reopened")
    def _reopened(
        self,
        status: str,
        reason: str,
        by_feedback: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = status
        self.reason = reason
        self.round += 1
        self.feedback_pending = False
        self.summary = None
        self.resolved_at = None
        self.written_off_at = None
        self.updated_at = at

    # Events that record a fact beside the lifecycle, defined in domain/concern_facts.py but
    # imported into the class body, so they are still `Concern`'s own events with the same
    # stored topics (`domain.concern:Concern.PhotoAttached` …): eventsourcing makes an event
    # class of each @event method found in the class's namespace.
    from domain.concern_facts import (  # type: ignore[misc]
        _appeal_decided,
        _appeal_lodged,
        _card_issued,
        _cosigner_added,
        _extension_refused,
        _extension_requested,
        _milestone_added,
        _milestone_done,
        _photo_attached,
        _resumed,
        _stage_missed,
        _supervision_replied,
        _suspension_approved,
        _suspension_refused,
        _suspension_requested,
        _void_approved,
        _void_proposed,
        _void_refused,
        _written_off,
    )
