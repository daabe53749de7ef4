"""The Concern's commands: each validates, asks the lifecycle where it leads and records one
event (domain/concern.py holds the state and the events, whose stored topics are
`domain.concern:Concern.<Event>`: they must not move)."""

# The commands are written against the aggregate they belong to (`self: Concern`): mypy
# calls a self-type narrower than the class an error of kind "misc", and checks them all the
# same.
# mypy: disable-error-code="misc"

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.errors import Conflict, Invalid, NotFound
from domain.geo import Point
from domain.lifecycle import TERMINAL, Action, Facts, Status, next_status
from domain.photos import CAPTION_MAX, MAX_PHOTOS, PhotoFacts, PhotoKind
from domain.principal import Actor
from domain.text import filled
from domain.vocabulary import (
    Category,
    Channel,
    DutyRole,
    Library,
    PriorityVisit,
    Satisfaction,
)

if TYPE_CHECKING:
    from domain.concern import Concern

# A resident joins an open concern only: one closed or resolved is a new concern's business.
COSIGN_CLOSED = frozenset({*TERMINAL, Status.RESOLVED})
TITLE_MAX = 200
# The reason a reopening by the resident's feedback records (the web UI says it in words).
REOPENED_UNSOLVED = "resident reported not solved"
REOPENED_DISSATISFIED = "resident dissatisfied"
DESCRIPTION_MAX = 5000


@dataclass(frozen=True)
class Assignment:
    """An owner (a registered member), their duty role and a due date."""

    owner: UUID
    duty_role: DutyRole
    due_on: date


class ConcernCommands:
    """The commands of `Concern` (its base class): validate and compute, then record one
    event."""

    @classmethod
    def raise_new(
        cls: type[Concern],
        *,
        reference: str,
        tracking_code: str,
        title: str,
        description: str,
        category: Category,
        library: Library,
        channel: Channel,
        grid: str,
        building: str | None,
        priority_visit: PriorityVisit | None,
        resident_ref: str | None,
        resident_data: str | None,
        anonymous: bool,
        actor: Actor,
        at: datetime,
        place: UUID | None = None,
        location: Point | None = None,
    ) -> Concern:
        """Record a new concern in intake."""
        return cls(
            reference=reference,
            tracking_code=tracking_code,
            title=filled("title", title, required=True, limit=TITLE_MAX),
            description=filled("description", description, required=True, limit=DESCRIPTION_MAX),
            category=category.value,
            library=library.value,
            channel=channel.value,
            grid=filled("grid", grid, required=True, limit=64),
            building=filled("building", building, required=False, limit=64) or None,
            priority_visit=priority_visit.value if priority_visit else None,
            resident_ref=resident_ref,
            resident_data=resident_data,
            anonymous=anonymous,
            actor_id=actor.id,
            actor_role=actor.role.value,
            at=at,
            place=place,
            location=location.as_dict() if location else None,
            kind="resident",
            hotspot=None,
            linked=None,
        )

    def add_cosigner(
        self: Concern,
        actor: Actor,
        *,
        resident_ref: str | None,
        resident_data: str | None,
        anonymous: bool,
        channel: Channel,
        at: datetime,
        from_concern: UUID | None = None,
    ) -> None:
        """A resident joins the concern (the same matter) instead of raising a new one."""
        # A merge moves residents whatever the surviving concern's state; a resident joins
        # an open one only.
        if from_concern is None and Status(self.status) in COSIGN_CLOSED:
            raise Conflict(
                f"concern {self.reference} is {self.status}: raise a new concern instead",
                rule="not_open",
            )
        if anonymous and resident_ref:
            raise Invalid(
                [("anonymous", "an anonymous co-signer cannot carry the resident's data")]
            )
        if not anonymous and not resident_ref:
            raise Invalid([("resident", "name the resident, or say anonymous: true")])
        if resident_ref is not None and any(
            c["resident_ref"] == resident_ref for c in self.cosigners
        ):
            raise Invalid([("resident", "this resident already joined the concern")])
        self._cosigner_added(
            resident_ref,
            resident_data,
            anonymous,
            channel.value,
            from_concern,
            actor.id,
            actor.role.value,
            at,
        )

    def _to(self: Concern, action: Action, facts: Facts | None = None) -> str:
        # Every lifecycle command passes here: none runs while the concern is suspended.
        self.check_not_suspended()
        return next_status(Status(self.status), action, facts or self.facts).value

    def refer(self: Concern, actor: Actor, note: str | None, at: datetime) -> None:
        """Refer the concern to the branch committee."""
        to = self._to(Action.REFER)
        self._referred(to, filled("note", note, required=False), actor.id, actor.role.value, at)

    def handle_now(
        self: Concern, actor: Actor, assignment: Assignment, note: str | None, at: datetime
    ) -> None:
        """Handle on receipt (即接即办): name an owner and a due date at once."""
        to = self._to(Action.HANDLE_NOW)
        self._check_due(assignment.due_on, at)
        self._handled_now(
            to,
            assignment.owner,
            assignment.duty_role.value,
            assignment.due_on,
            filled("note", note, required=False),
            actor.id,
            actor.role.value,
            at,
        )

    def decline(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """Decline explicitly (明确拒办), with the reason the resident will be told."""
        to = self._to(Action.DECLINE)
        self._declined(to, filled("reason", reason, required=True), actor.id, actor.role.value, at)

    def merge_into(self: Concern, actor: Actor, into: UUID, note: str | None, at: datetime) -> None:
        """Close this concern as a duplicate of another open concern."""
        to = self._to(Action.MERGE_INTO)
        if into == self.id:
            raise Invalid([("into", "a concern cannot be merged into itself")])
        self._merged(to, into, filled("note", note, required=False), actor.id, actor.role.value, at)

    def withdraw(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """Withdraw at the resident's request."""
        to = self._to(Action.WITHDRAW)
        self._withdrawn(to, filled("reason", reason, required=True), actor.id, actor.role.value, at)

    def assign(
        self: Concern, actor: Actor, assignment: Assignment, note: str | None, at: datetime
    ) -> None:
        """Name the owner, duty role and due date (committee, or the chair after adoption)."""
        to = self._to(Action.ASSIGN)
        self._check_due(assignment.due_on, at)
        self._assigned(
            to,
            assignment.owner,
            assignment.duty_role.value,
            assignment.due_on,
            filled("note", note, required=False),
            actor.id,
            actor.role.value,
            at,
        )

    def shortlist(
        self: Concern, actor: Actor, meeting_id: UUID, meeting_title: str, at: datetime
    ) -> None:
        """Put the concern on a scheduled meeting's agenda (saved with the meeting)."""
        to = self._to(Action.SHORTLIST)
        self._shortlisted(to, meeting_id, meeting_title, actor.id, actor.role.value, at)

    def record_outcome(
        self: Concern, actor: Actor, meeting_id: UUID, tally: dict[str, Any], at: datetime
    ) -> None:
        """Apply the meeting's decision: adopted waits for the chair to name the owner,
        rejected is declined with the meeting's reason, deferred goes back to the committee."""
        action = {
            "adopted": Action.ADOPT,
            "rejected": Action.REJECT,
            "deferred": Action.DEFER,
        }[tally["outcome"]]
        to = self._to(action)
        if action == Action.ADOPT:
            self._adopted(to, meeting_id, tally, actor.id, actor.role.value, at)
        elif action == Action.REJECT:
            reason = f"rejected by the branch meeting: {tally['reason']}"
            self._rejected(to, meeting_id, tally, reason, actor.id, actor.role.value, at)
        else:
            self._deferred(to, meeting_id, tally, actor.id, actor.role.value, at)

    def return_for_info(self: Concern, actor: Actor, missing: str, at: datetime) -> None:
        """Send the concern back to intake, saying what is missing."""
        to = self._to(Action.RETURN_FOR_INFO)
        self._returned_for_info(
            to, filled("missing", missing, required=True), actor.id, actor.role.value, at
        )

    def record_progress(self: Concern, actor: Actor, note: str, at: datetime) -> None:
        """Record what the owner has done so far."""
        to = self._to(Action.RECORD_PROGRESS)
        self._progress_recorded(
            to, filled("note", note, required=True), actor.id, actor.role.value, at
        )

    def extend_deadline(
        self: Concern, actor: Actor, due_on: date, reason: str, at: datetime
    ) -> None:
        """Move the due date later; every earlier due date stays in the history."""
        to = self._to(Action.EXTEND_DEADLINE)
        text = filled("reason", reason, required=True)
        if self.due_on is not None and due_on <= self.due_on:
            raise Invalid([("due_on", f"must be later than the current due date {self.due_on}")])
        self._check_due(due_on, at)
        self._deadline_extended(to, due_on, self.due_on, text, actor.id, actor.role.value, at)

    def reassign(
        self: Concern, actor: Actor, owner: UUID, duty_role: DutyRole, reason: str, at: datetime
    ) -> None:
        """Give the work to another member."""
        to = self._to(Action.REASSIGN)
        text = filled("reason", reason, required=True)
        if owner == self.owner and duty_role.value == self.duty_role:
            raise Invalid([("owner", "is already the owner in that duty role")])
        self._reassigned(
            to, owner, duty_role.value, self.owner, text, actor.id, actor.role.value, at
        )

    def send_back(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """Hand the concern back to the committee (退回): not the owner's to do."""
        to = self._to(Action.SEND_BACK)
        self._sent_back(to, filled("reason", reason, required=True), actor.id, actor.role.value, at)

    def resolve(self: Concern, actor: Actor, summary: str, at: datetime) -> None:
        """Record what was done; the feedback clock starts."""
        to = self._to(Action.RESOLVE)
        on_time = self.due_on is None or at.date() <= self.due_on
        self._resolved(
            to, filled("summary", summary, required=True), on_time, actor.id, actor.role.value, at
        )

    def record_feedback(
        self: Concern,
        actor: Actor,
        solved: bool,
        satisfaction: Satisfaction,
        comment: str | None,
        at: datetime,
    ) -> None:
        """Record the resident's answer (回访); not solved or dissatisfied reopens."""
        reopens = (not solved) or satisfaction == Satisfaction.DISSATISFIED
        facts = replace(self.facts, reopens=reopens)
        to = self._to(Action.RECORD_FEEDBACK, facts)
        text = filled("comment", comment, required=False)
        self._feedback_recorded(
            Status.RESOLVED.value,
            solved,
            satisfaction.value,
            text,
            actor.id,
            actor.role.value,
            at,
        )
        if reopens:
            reason = REOPENED_DISSATISFIED if solved else REOPENED_UNSOLVED
            self._reopened(to, reason, True, actor.id, actor.role.value, at)

    def reopen(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """Start a new round of work; the earlier round stays in the history."""
        to = self._to(Action.REOPEN)
        text = filled("reason", reason, required=True)
        self._reopened(to, text, False, actor.id, actor.role.value, at)

    # -- the commitment (承诺): milestones and writing off ----------------------------------

    def add_milestone(
        self: Concern, actor: Actor, milestone_id: UUID, title: str, due_on: date, at: datetime
    ) -> None:
        """Add a milestone (承诺节点) to the work: what is to be done by when."""
        to = self._to(Action.ADD_MILESTONE)
        text = filled("title", title, required=True, limit=TITLE_MAX)
        self._check_due(due_on, at)
        self._milestone_added(to, milestone_id, text, due_on, actor.id, actor.role.value, at)

    def complete_milestone(
        self: Concern, actor: Actor, milestone_id: UUID, note: str | None, at: datetime
    ) -> None:
        """Mark one of the milestones done."""
        to = self._to(Action.COMPLETE_MILESTONE)
        found = next((m for m in self.milestones if m["id"] == milestone_id), None)
        if found is None:
            raise NotFound("milestone", milestone_id)
        if found["done_at"] is not None:
            raise Invalid([("milestone_id", "the milestone is already done")])
        text = filled("note", note, required=False)
        self._milestone_done(to, milestone_id, text, actor.id, actor.role.value, at)

    def write_off(self: Concern, actor: Actor, note: str | None, at: datetime) -> None:
        """Write the fulfilled commitment off the public board (注销)."""
        to = self._to(Action.WRITE_OFF)
        self._written_off(to, filled("note", note, required=False), actor.id, actor.role.value, at)

    # -- facts the deadline watcher records; they change no status ----------------------

    def attach_photo(
        self: Concern,
        actor: Actor,
        photo: PhotoFacts,
        kind: PhotoKind,
        caption: str | None,
        publishable: bool,
        shows_resident: bool,
        at: datetime,
    ) -> None:
        """Attach a checked photo by its digest; one that shows a resident is never public."""
        if publishable and shows_resident:
            raise Invalid([("publishable", "a photo that shows a resident cannot be published")])
        if any(p["digest"] == photo.digest for p in self.photos):
            raise Invalid([("photo", "this photo is already attached to the concern")])
        if len(self.photos) >= MAX_PHOTOS:
            raise Invalid([("photo", f"a concern holds at most {MAX_PHOTOS} photos")])
        self._photo_attached(
            digest=photo.digest,
            kind=kind.value,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=photo.size,
            caption=filled("caption", caption, required=False, limit=CAPTION_MAX) or None,
            publishable=publishable,
            shows_resident=shows_resident,
            round=self.round,
            actor_id=actor.id,
            actor_role=actor.role.value,
            at=at,
        )

    def deadline_missed_on(self: Concern, today: date) -> date | None:
        """The due date that passed unmet and has not been recorded yet, if any."""
        if self.status != Status.ASSIGNED.value or self.due_on is None or self.suspended:
            return None
        if self.due_on >= today or self.due_on in self.missed_due_dates:
            return None
        return self.due_on

    def note_deadline_missed(self: Concern, actor: Actor, at: datetime) -> None:
        """Record once per due date that the work was not done by it."""
        due_on = self.deadline_missed_on(at.date())
        if due_on is None:
            raise Invalid([("due_on", "no unrecorded missed due date")])
        self._deadline_missed(due_on, self.owner, actor.id, actor.role.value, at)

    def feedback_overdue_since(self: Concern, now: datetime, window_days: int) -> datetime | None:
        """When the resident's answer became overdue in this round, if not recorded yet."""
        if not self.feedback_pending or self.resolved_at is None:
            return None
        if self.round in self.feedback_overdue_rounds:
            return None
        due = self.resolved_at + timedelta(days=window_days)
        return due if now >= due else None

    def note_feedback_overdue(self: Concern, actor: Actor, window_days: int, at: datetime) -> None:
        """Record once per round that the resident was not asked back in time."""
        if self.feedback_overdue_since(at, window_days) is None:
            raise Invalid([("feedback", "the feedback window has not passed or was recorded")])
        self._feedback_overdue(self.round, window_days, actor.id, actor.role.value, at)

    def stage_missed(self: Concern, stage: str, started_at: datetime) -> bool:
        """True when this stage, started then, was already recorded missed."""
        return any(
            m["stage"] == stage and m["started_at"] == started_at for m in self.missed_stages
        )

    def note_stage_missed(
        self: Concern,
        actor: Actor,
        stage: str,
        started_at: datetime,
        deadline: datetime,
        at: datetime,
    ) -> None:
        """Record once per stage that its limit passed before it was handed on (超期)."""
        if at <= deadline or self.stage_missed(stage, started_at):
            raise Invalid([("stage", "the stage's limit has not passed or was recorded")])
        self._stage_missed(stage, started_at, deadline, self.owner, actor.id, actor.role.value, at)

    def _check_due(self: Concern, due_on: date, at: datetime) -> None:
        if due_on < at.date():
            raise Invalid([("due_on", "must not be in the past")])
