"""The void (作废): staff propose, a supervisor approves or refuses (domain/voids.py holds the
rules; approving is the lifecycle's `void` row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.commands import CommandResult, Idempotency
from application.supervision import SupervisionVerbs
from domain.concern import Concern
from domain.lifecycle import Action
from domain.permissions import actor_for, check_grid, require_role
from domain.principal import Actor, Principal
from domain.vocabulary import Role


class VoidVerbs(SupervisionVerbs):
    """Propose, approve and refuse a void."""

    def propose_void(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Staff propose voiding a concern that did not meet the filing conditions."""
        require_role(principal, Role.STAFF, "proposing a void")

        def act(concern: Concern, at: datetime) -> None:
            check_grid(principal, concern.grid)
            concern.propose_void(Actor(principal.id, Role.STAFF), reason, at)

        return self._card_change(concern_id, expected_version, idem, act)

    def approve_void(
        self,
        concern_id: UUID,
        principal: Principal,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """A supervisor approves the waiting proposal: the concern is closed as voided."""

        def act(concern: Concern, at: datetime) -> None:
            concern.approve_void(actor_for(principal, Action.VOID, concern), at)

        return self._card_change(concern_id, expected_version, idem, act)

    def refuse_void(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """A supervisor refuses the waiting proposal, with a reason."""
        require_role(principal, Role.SUPERVISOR, "refusing a void")

        def act(concern: Concern, at: datetime) -> None:
            check_grid(principal, concern.grid)
            concern.refuse_void(Actor(principal.id, Role.SUPERVISOR), reason, at)

        return self._card_change(concern_id, expected_version, idem, act)
