"""The shape of every command on one concern (`_change`): load it, ask who the caller acts
as, check If-Match, run the command, save; the assignment a command names; and what a new
concern is numbered by (its reference, its tracking code, the index keys it claims)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from application.commands import CommandResult, Idempotency
from application.places import PlaceCommands
from domain.concern import Assignment, Concern
from domain.errors import VersionMismatch
from domain.index import Index
from domain.lifecycle import Action
from domain.permissions import actor_for
from domain.principal import Actor, Principal
from domain.references import new_tracking_code, reference_for
from domain.vocabulary import DutyRole

Command = Callable[[Concern, Actor, datetime], None]


def numbered(number: int, at: datetime) -> tuple[str, str]:
    """A new concern's reference (MQ-year-number) and a fresh tracking code."""
    return reference_for(at.year, number), new_tracking_code()


def claims(concern_id: UUID, reference: str, code: str) -> list[Index]:
    """The index keys a new concern claims. Each may be claimed once: a second claim fails
    the save, which retries with the next number."""
    return [
        Index(key=f"reference:{reference}", target=concern_id),
        Index(key=f"tracking:{code}", target=concern_id),
    ]


class ConcernChanges(PlaceCommands):
    """`_change`, which every lifecycle command on one concern goes through."""

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
