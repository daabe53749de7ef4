"""The appeal of an overdue stage (超期申诉): after resolution, once per concern, the owner
appeals a stage that ran past its limit, with a reason; a supervisor decides. An approved
appeal exempts that stage (the concern read lists it under `exempt_stages`), while the
overdue fact itself stays in the history."""

# Written against the aggregate they belong to (`self: Concern`), as concern_commands.py.
# mypy: disable-error-code="misc"

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.errors import Conflict, Invalid
from domain.lifecycle import Status
from domain.principal import Actor
from domain.text import filled

if TYPE_CHECKING:
    from domain.concern import Concern


class AppealCommands:
    """Appeal and decide, mixed into `Concern`."""

    def overdue_stages(self: Concern) -> list[str]:
        """The stages recorded overdue: StageMissed's, handling for a missed due date,
        feedback for an overdue answer."""
        found = [m["stage"] for m in self.missed_stages]
        if self.missed_due_dates:
            found.append("handling")
        if self.feedback_overdue_rounds:
            found.append("feedback")
        return list(dict.fromkeys(found))

    def exempt_stages(self: Concern) -> list[str]:
        """The stages an approved appeal exempts from the on-time figures."""
        appeal = self.appeal
        if appeal is None or not appeal.get("approved"):
            return []
        return [appeal["stage"]]

    def appeal_overdue(self: Concern, actor: Actor, stage: str, reason: str, at: datetime) -> None:
        """The owner appeals an overdue stage, once per concern, after resolution."""
        if self.appeal is not None:
            raise Conflict("a concern is appealed once", "appeal_used")
        if self.status != Status.RESOLVED.value:
            raise Conflict("an overdue stage is appealed after resolution", "not_resolved")
        if stage not in self.overdue_stages():
            names = ", ".join(self.overdue_stages()) or "none"
            raise Invalid([("stage", f"must be a stage recorded overdue ({names})")])
        self._appeal_lodged(stage, filled("reason", reason), actor.id, actor.role.value, at)

    def decide_appeal(
        self: Concern, actor: Actor, approved: bool, reason: str, at: datetime
    ) -> None:
        """A supervisor approves or refuses the waiting appeal, with a reason."""
        if self.appeal is None or self.appeal.get("approved") is not None:
            raise Conflict("no appeal waits for a decision", "no_appeal")
        self._appeal_decided(
            self.appeal["stage"], approved, filled("reason", reason), actor.id, actor.role.value, at
        )
