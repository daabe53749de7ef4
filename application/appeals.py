"""Appeals of an overdue stage (超期申诉): the owner's appeal and the supervisor's decision
(domain/appeals.py holds the rules)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.commands import CommandResult, Idempotency
from application.extensions import ExtensionVerbs
from domain.concern import Concern
from domain.errors import Forbidden
from domain.permissions import check_grid, is_owner, require_role
from domain.principal import Actor, Principal
from domain.vocabulary import Role


class AppealVerbs(ExtensionVerbs):
    """Appeal and decide."""

    def appeal(
        self,
        concern_id: UUID,
        principal: Principal,
        stage: str,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The owner appeals an overdue stage after resolution (once per concern)."""

        def act(concern: Concern, at: datetime) -> None:
            if not is_owner(principal, concern):
                raise Forbidden("only the concern's owner appeals")
            concern.appeal_overdue(Actor(principal.id, Role.MEMBER), stage, reason, at)

        return self._card_change(concern_id, expected_version, idem, act)

    def decide_appeal(
        self,
        concern_id: UUID,
        principal: Principal,
        approved: bool,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """A supervisor approves or refuses the appeal, with a reason."""
        require_role(principal, Role.SUPERVISOR, "deciding an appeal")

        def act(concern: Concern, at: datetime) -> None:
            check_grid(principal, concern.grid)
            concern.decide_appeal(Actor(principal.id, Role.SUPERVISOR), approved, reason, at)

        return self._card_change(concern_id, expected_version, idem, act)
