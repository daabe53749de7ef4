"""Extensions (延期), requested and approved: the owner's request and the committee's
refusal (approval is `extend_deadline`, application/concerns.py; the rules are
domain/extensions.py's)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.commands import CommandResult, Idempotency
from application.supervision import SupervisionVerbs
from domain.concern import Concern
from domain.errors import Forbidden
from domain.permissions import check_grid, is_owner, require_role
from domain.principal import Actor, Principal
from domain.vocabulary import Role


class ExtensionVerbs(SupervisionVerbs):
    """Request and refuse an extension."""

    def request_extension(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The owner asks the committee for more time, with a reason."""

        def act(concern: Concern, at: datetime) -> None:
            if not is_owner(principal, concern):
                raise Forbidden("only the concern's owner requests an extension")
            actor = Actor(principal.id, Role.MEMBER)
            concern.request_extension(actor, reason, at, self.extension_cap)

        return self._card_change(concern_id, expected_version, idem, act)

    def refuse_extension(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The committee refuses the waiting request, with a reason."""
        require_role(principal, Role.COMMITTEE, "refusing an extension")

        def act(concern: Concern, at: datetime) -> None:
            check_grid(principal, concern.grid)
            concern.refuse_extension(Actor(principal.id, Role.COMMITTEE), reason, at)

        return self._card_change(concern_id, expected_version, idem, act)
