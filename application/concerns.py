"""The concern's verbs: raise, triage, work, resolve, feedback; each loads the concern,
calls one of its methods and saves it (application/base.py)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.base import ATTEMPTS, Built, back_off
from application.commands import CommandResult, Idempotency, NewConcern
from application.places import PlaceCommands
from domain.concern import Assignment, Concern
from domain.errors import Conflict, Invalid, VersionMismatch
from domain.index import Index
from domain.lifecycle import TERMINAL, Action, Status
from domain.permissions import actor_for, actor_to_raise
from domain.principal import Actor, Principal
from domain.residents import ResidentData
from domain.vocabulary import Channel, DutyRole, Role, Satisfaction

# Tracking codes avoid look-alike characters (0/O, 1/I/L) so they can be read over the phone.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 12

Command = Callable[[Concern, Actor, datetime], None]


class ConcernCommands(PlaceCommands):
    """One method per concern command."""

    def raise_concern(
        self, principal: Principal, draft: NewConcern, idem: Idempotency | None = None
    ) -> CommandResult:
        """Record a new concern in intake, with a reference and a tracking code."""
        if (replay := self._replay(idem)) is not None:
            return replay
        actor = actor_to_raise(principal, draft.grid)
        if draft.anonymous and not draft.resident.is_empty():
            raise Invalid([("anonymous", "an anonymous concern cannot carry the resident's data")])
        # Where it is: a place of its grid's register, a point inside the grid (422 if not).
        self.check_place(draft.grid.strip(), draft.place)
        self.check_point(draft.grid.strip(), draft.location)
        sealed = None if draft.resident.is_empty() else self.keyring.seal(draft.resident)

        def build(number: int, at: datetime) -> Built:
            reference = f"MQ-{at.year}-{number:06d}"
            code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
            concern = Concern.raise_new(
                reference=reference,
                tracking_code=code,
                title=draft.title,
                description=draft.description,
                category=draft.category,
                library=draft.library,
                channel=draft.channel,
                grid=draft.grid,
                building=draft.building,
                priority_visit=draft.priority_visit,
                resident_ref=sealed.resident_ref if sealed else None,
                resident_data=sealed.ciphertext if sealed else None,
                anonymous=draft.anonymous,
                actor=actor,
                at=at,
                place=draft.place,
                location=draft.location,
            )
            # Each key may be claimed once: a second claim fails the save, which retries.
            indexes = [
                Index(key=f"reference:{reference}", target=concern.id),
                Index(key=f"tracking:{code}", target=concern.id),
            ]
            result = CommandResult(
                id=str(concern.id),
                version=concern.version,
                position=0,
                status=concern.status,
                reference=reference,
                tracking_code=code,
            )
            return concern, indexes, result, [sealed.key_row] if sealed else []

        def attempt() -> CommandResult | None:
            at = self.clock()
            return self._save_numbered(f"reference:{at.year}", lambda n: build(n, at), idem)

        return self._until_saved(attempt, "could not allocate a unique reference; try again")

    def add_cosigner(
        self,
        concern_id: UUID,
        principal: Principal,
        resident: ResidentData,
        anonymous: bool,
        channel: Channel,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """A resident joins the concern as a co-signer (sealed as usual): one more resident
        raised this matter, not one more concern."""
        if (replay := self._replay(idem)) is not None:
            return replay
        if anonymous and not resident.is_empty():
            raise Invalid(
                [("anonymous", "an anonymous co-signer cannot carry the resident's data")]
            )
        sealed = None if resident.is_empty() else self.keyring.seal(resident)

        def attempt() -> CommandResult | None:
            concern = self._find_concern(concern_id)
            actor = actor_to_raise(principal, concern.grid)  # who may raise may co-sign
            concern.add_cosigner(
                actor,
                resident_ref=sealed.resident_ref if sealed else None,
                resident_data=sealed.ciphertext if sealed else None,
                anonymous=anonymous,
                channel=channel,
                at=self.clock(),
            )
            result = CommandResult(
                id=str(concern.id),
                version=concern.version,
                position=0,
                status=concern.status,
                reference=concern.reference,
                extra={"residents_count": concern.residents_count},
            )
            return self._save(concern, [], result, idem, [sealed.key_row] if sealed else [])

        return self._until_saved(attempt, f"concern {concern_id} kept changing; try again")

    def refer(
        self,
        concern_id: UUID,
        principal: Principal,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Refer the concern to the branch committee."""
        return self._change(
            concern_id,
            principal,
            Action.REFER,
            expected_version,
            idem,
            lambda c, a, at: c.refer(a, note, at),
        )

    def handle_now(
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
        """Handle on receipt: name the owner and due date at once."""
        return self._change(
            concern_id,
            principal,
            Action.HANDLE_NOW,
            expected_version,
            idem,
            lambda c, a, at: c.handle_now(a, self._assignment(owner, duty_role, due_on), note, at),
        )

    def decline(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Decline explicitly, with the reason the resident will hear."""
        return self._change(
            concern_id,
            principal,
            Action.DECLINE,
            expected_version,
            idem,
            lambda c, a, at: c.decline(a, reason, at),
        )

    def merge(
        self,
        concern_id: UUID,
        principal: Principal,
        into: UUID,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Close the concern as a duplicate of another open concern."""

        surviving: list[Concern] = []

        def command(c: Concern, a: Actor, at: datetime) -> None:
            surviving.clear()
            if into != c.id:
                target = self._find_concern(into, field_name="into")
                if Status(target.status) in TERMINAL:
                    raise Invalid([("into", f"concern {into} is {target.status}, not open")])
                surviving.append(target)
            c.merge_into(a, into, note, at)
            if surviving:
                # The merged concern's residents join the surviving one, in the same save.
                for who in _residents_of(c):
                    surviving[0].add_cosigner(a, **who, at=at, from_concern=c.id)

        return self._change(
            concern_id,
            principal,
            Action.MERGE_INTO,
            expected_version,
            idem,
            command,
            others=surviving,
        )

    def withdraw(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Withdraw at the resident's request."""
        return self._change(
            concern_id,
            principal,
            Action.WITHDRAW,
            expected_version,
            idem,
            lambda c, a, at: c.withdraw(a, reason, at),
        )

    def return_for_info(
        self,
        concern_id: UUID,
        principal: Principal,
        missing: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Send the concern back to intake, saying what is missing."""
        return self._change(
            concern_id,
            principal,
            Action.RETURN_FOR_INFO,
            expected_version,
            idem,
            lambda c, a, at: c.return_for_info(a, missing, at),
        )

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

    # -- the shape of every command on one concern ------------------------------------------

    def _change(
        self,
        concern_id: UUID,
        principal: Principal,
        action: Action,
        expected_version: int | None,
        idem: Idempotency | None,
        command: Command,
        extra: dict[str, Any] | None = None,
        others: list[Concern] | None = None,
    ) -> CommandResult:
        """Load the concern, check the caller and If-Match, run `command`, save (with the
        aggregates `command` left in `others`, in the same transaction; `extra`: more fields
        of the answer)."""
        if (replay := self._replay(idem)) is not None:
            return replay

        def attempt() -> CommandResult | None:
            concern = self._find_concern(concern_id)
            actor = actor_for(principal, action, concern)
            if expected_version is not None and concern.version != expected_version:
                raise VersionMismatch(expected_version, concern.version)
            command(concern, actor, self.clock())
            result = CommandResult(
                id=str(concern.id),
                version=concern.version,
                position=0,
                status=concern.status,
                reference=concern.reference,
                extra=extra,
            )
            return self._save(concern, list(others or []), result, idem, [])

        return self._until_saved(attempt, f"concern {concern_id} kept changing; try again")

    def _assignment(self, owner: UUID, duty_role: DutyRole, due_on: date) -> Assignment:
        # Called inside a command, after the caller's role and grid were checked (403 first).
        self._member(owner, "owner")
        return Assignment(owner=owner, duty_role=duty_role, due_on=due_on)


def _residents_of(c: Concern) -> list[dict[str, Any]]:
    """Everyone who raised `c`: whoever raised it first, then its co-signers (their sealed
    data as it is: the same key, so an erasure still reaches it)."""
    first = {
        "resident_ref": c.resident_ref,
        "resident_data": c.resident_data,
        "anonymous": c.anonymous or not c.resident_ref,
        "channel": Channel(c.channel),
    }
    joined = [
        {
            "resident_ref": j["resident_ref"],
            "resident_data": j["resident_data"],
            "anonymous": j["anonymous"],
            "channel": Channel(j["channel"]),
        }
        for j in c.cosigners
    ]
    return [first, *joined]
