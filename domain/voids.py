"""The void (作废): staff propose, with a reason, that a concern did not meet the filing
conditions; a supervisor approves (the lifecycle's `void` row: the concern is closed as
`voided`) or refuses. One proposal waits at a time. A voided concern stays in the history
with its reason, and leaves the indicators' denominators (projections/ledger_figures.py)."""

# Written against the aggregate they belong to (`self: Concern`), as concern_commands.py.
# mypy: disable-error-code="misc"

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.errors import Conflict
from domain.lifecycle import Action, Status, next_status, rows_for
from domain.principal import Actor
from domain.text import filled

if TYPE_CHECKING:
    from domain.concern import Concern


class VoidCommands:
    """Propose, approve and refuse a void, mixed into `Concern`."""

    @property
    def voidable(self: Concern) -> bool:
        """True while the lifecycle's `void` row leaves from where the concern stands."""
        return bool(rows_for(Action.VOID, Status(self.status), self.facts))

    def _void_to(self: Concern) -> str:
        # The lifecycle decides whether the concern may still be voided (a closed or a
        # resolved one: 409 transition_not_allowed, naming what it allows).
        return next_status(Status(self.status), Action.VOID, self.facts).value

    def propose_void(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """Staff propose voiding the concern, with the reason it did not meet the conditions."""
        self._void_to()
        if self.void_proposal is not None:
            raise Conflict("a void proposal already waits for a supervisor", "pending")
        self._void_proposed(filled("reason", reason), actor.id, actor.role.value, at)

    def approve_void(self: Concern, actor: Actor, at: datetime) -> None:
        """A supervisor approves the waiting proposal: the concern is closed as voided."""
        to = self._void_to()
        proposal = self.void_proposal
        if proposal is None:
            raise Conflict("no void proposal waits for a decision", "no_proposal")
        self._void_approved(to, self.status, proposal["reason"], actor.id, actor.role.value, at)

    def refuse_void(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """A supervisor refuses the waiting proposal, with a reason; the concern goes on."""
        # Whatever the status now: a proposal the concern has moved past (resolved, put on a
        # meeting's agenda) can still be answered, so none is left waiting for ever.
        if self.void_proposal is None:
            raise Conflict("no void proposal waits for a decision", "no_proposal")
        self._void_refused(filled("reason", reason), actor.id, actor.role.value, at)
