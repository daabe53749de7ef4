"""Intake and triage (分拣): raising a concern, a resident co-signing it, and the first
decision on it (refer, handle at once, decline, merge, withdraw, return for information)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from application.base import Built
from application.commands import CommandResult, Idempotency, NewConcern
from application.concern_changes import ConcernChanges, claims, numbered
from domain.concern import Concern
from domain.errors import Invalid
from domain.lifecycle import TERMINAL, Action, Status
from domain.permissions import actor_to_raise
from domain.principal import Actor, Principal
from domain.residents import ResidentData
from domain.vocabulary import Channel, DutyRole


class IntakeVerbs(ConcernChanges):
    """Raise, co-sign, and triage a concern in intake."""

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
            reference, code = numbered(number, at)
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
            indexes = claims(concern.id, reference, code)
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
