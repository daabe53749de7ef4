"""The commitment's verbs (承诺一件、兑现一件、注销一件): a concern adopted or assigned is a
commitment in public; its milestones and its writing off once fulfilled. Each loads the
concern, calls one of its methods and saves it, as the other concern verbs do."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from application.commands import CommandResult, Idempotency
from application.concerns import ConcernCommands
from domain.errors import Forbidden
from domain.lifecycle import Action
from domain.principal import Principal
from domain.vocabulary import Role


class CommitmentCommands(ConcernCommands):
    """Milestones and writing off, on top of the concern's own verbs."""

    def add_milestone(
        self,
        concern_id: UUID,
        principal: Principal,
        title: str,
        due_on: date,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Add a milestone (承诺节点) to the commitment: what is to be done by when."""
        milestone_id = uuid4()  # the same id on every retry of this request
        return self._change(
            concern_id,
            principal,
            Action.ADD_MILESTONE,
            expected_version,
            idem,
            lambda c, a, at: c.add_milestone(a, milestone_id, title, due_on, at),
            extra={"milestone_id": str(milestone_id)},
        )

    def complete_milestone(
        self,
        concern_id: UUID,
        principal: Principal,
        milestone_id: UUID,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Mark one of the commitment's milestones done."""
        return self._change(
            concern_id,
            principal,
            Action.COMPLETE_MILESTONE,
            expected_version,
            idem,
            lambda c, a, at: c.complete_milestone(a, milestone_id, note, at),
        )

    def write_off(
        self,
        concern_id: UUID,
        principal: Principal,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Write the fulfilled commitment off (注销); refused (409) before it is fulfilled."""
        return self._change(
            concern_id,
            principal,
            Action.WRITE_OFF,
            expected_version,
            idem,
            lambda c, a, at: c.write_off(a, note, at),
        )

    def set_public_identity(
        self,
        member_id: UUID,
        principal: Principal,
        shown: bool,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The member agrees (or no longer agrees) to be shown by name on the public board
        (党员亮身份): the member themselves, or staff recording it for them."""
        if (replay := self._replay(idem)) is not None:
            return replay
        own = principal.member_id == member_id
        role = next((r for r in (Role.STAFF, Role.ADMIN) if r in principal.roles), None)
        if role is None and not own:
            raise Forbidden("only the member themselves or staff may change this")
        acting = role.value if role is not None else Role.MEMBER.value

        def attempt() -> CommandResult | None:
            member = self._member(member_id, "member", not_found=True)
            member.set_public_identity(shown, principal.id, acting, self.clock())
            result = CommandResult(id=str(member.id), version=member.version, position=0)
            return self._save(member, [], result, idem, [])

        return self._until_saved(attempt, f"member {member_id} kept changing; try again")
