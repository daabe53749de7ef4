"""The concern's verbs once it is assigned: assign, work, extend, reassign, send back,
resolve, the resident's feedback and reopening, and the deadline watcher's facts; each loads
the concern, calls one of its methods and saves it (application/concern_changes.py). Raising
and triage are application/intake.py's."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.base import ATTEMPTS, back_off
from application.commands import CommandResult, Idempotency
from application.intake import IntakeVerbs
from domain.concern import Concern
from domain.errors import Conflict
from domain.lifecycle import Action
from domain.principal import Actor, Principal
from domain.vocabulary import DutyRole, Role, Satisfaction


class ConcernCommands(IntakeVerbs):
    """One method per concern command (raising and triage inherited from IntakeVerbs)."""

    def assign(
        self,
        concern_id: UUID,
        principal: Principal,
        owner: UUID,
        duty_role: DutyRole,
        due_on: date,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Name the owner, duty role and due date."""

        def command(c: Concern, a: Actor, at: datetime) -> None:
            if a.role == Role.CHAIR and c.meeting_id is not None:
                # After an adoption: the chair of the meeting that adopted it, not any chair.
                self._chair(principal, self.get_meeting(c.meeting_id), "assigning after a vote")
            c.assign(a, self._assignment(owner, duty_role, due_on), note, at)

        return self._change(concern_id, principal, Action.ASSIGN, expected_version, idem, command)

    def record_progress(
        self,
        concern_id: UUID,
        principal: Principal,
        note: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record what the owner has done so far."""
        return self._change(
            concern_id,
            principal,
            Action.RECORD_PROGRESS,
            expected_version,
            idem,
            lambda c, a, at: c.record_progress(a, note, at),
        )

    def extend_deadline(
        self,
        concern_id: UUID,
        principal: Principal,
        due_on: date | None,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Approve an extension (延期): the due date moves later (by one original limit
        unless a date is given), at most `extension_cap` times a round (2 unless
        MINQING_EXTENSION_CAP says otherwise), never once it has passed."""

        def extend(c: Concern, a: Actor, at: datetime) -> None:
            c.check_extension(at, self.extension_cap)
            c.extend_deadline(a, due_on or c.next_due_on(), reason, at)

        return self._change(
            concern_id, principal, Action.EXTEND_DEADLINE, expected_version, idem, extend
        )

    def reassign(
        self,
        concern_id: UUID,
        principal: Principal,
        owner: UUID,
        duty_role: DutyRole,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Give the work to another member, with a reason."""

        def command(c: Concern, a: Actor, at: datetime) -> None:
            self._member(owner, "owner")
            c.reassign(a, owner, duty_role, reason, at)

        return self._change(concern_id, principal, Action.REASSIGN, expected_version, idem, command)

    def send_back(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The owner hands the concern back to the committee."""
        return self._change(
            concern_id,
            principal,
            Action.SEND_BACK,
            expected_version,
            idem,
            lambda c, a, at: c.send_back(a, reason, at),
        )

    def resolve(
        self,
        concern_id: UUID,
        principal: Principal,
        summary: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record what was done; the feedback clock starts."""
        return self._change(
            concern_id,
            principal,
            Action.RESOLVE,
            expected_version,
            idem,
            lambda c, a, at: c.resolve(a, summary, at),
        )

    def record_feedback(
        self,
        concern_id: UUID,
        principal: Principal,
        solved: bool,
        satisfaction: Satisfaction,
        comment: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record the resident's answer; not solved or dissatisfied reopens the concern."""
        return self._change(
            concern_id,
            principal,
            Action.RECORD_FEEDBACK,
            expected_version,
            idem,
            lambda c, a, at: c.record_feedback(a, solved, satisfaction, comment, at),
        )

    def reopen(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Start a new round of work."""
        return self._change(
            concern_id,
            principal,
            Action.REOPEN,
            expected_version,
            idem,
            lambda c, a, at: c.reopen(a, reason, at),
        )

    def feedback_by_tracking_code(
        self,
        code: str,
        solved: bool,
        satisfaction: Satisfaction,
        comment: str | None = None,
        idem_key: str | None = None,
        fingerprint: str = "",
    ) -> CommandResult:
        """The resident answers on the tracking page, with no account."""
        concern = self.track(code)
        resident = Principal(
            id=f"resident:{concern.resident_ref or concern.reference}",
            name="resident",
            roles=frozenset({Role.RESIDENT}),
            grids=frozenset(),
        )
        idem = Idempotency(resident.id, idem_key, fingerprint) if idem_key else None
        return self.record_feedback(concern.id, resident, solved, satisfaction, comment, idem=idem)

    def record_missed_deadlines(self, concern_id: UUID, feedback_window_days: int) -> list[str]:
        """Record DeadlineMissed / FeedbackOverdue on a concern when due; never twice.

        Two watchers may race: the loser's save conflicts, it reloads and finds the fact
        already recorded.
        """
        watcher = Actor("system:deadline-watcher", Role.SYSTEM)
        for attempt in range(ATTEMPTS):
            back_off(attempt)
            concern = self._find_concern(concern_id)
            now = self.clock()
            if concern.deadline_missed_on(now.date()) is not None:
                concern.note_deadline_missed(watcher, now)
            if concern.feedback_overdue_since(now, feedback_window_days) is not None:
                concern.note_feedback_overdue(watcher, feedback_window_days, now)
            recorded = [type(e).__name__ for e in concern.pending_events]
            if not recorded:
                return []
            try:
                self.save(concern)
            except IntegrityError:
                continue
            return recorded
        raise Conflict(f"concern {concern_id} kept changing; try again")
