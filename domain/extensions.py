"""Extensions (延期), requested and approved: the owner asks with a reason, the committee
approves (`extend-deadline`, each approval adding one original limit unless it names a
date) or refuses. At most `cap` approvals per round (EXTENSION_CAP unless the setting
MINQING_EXTENSION_CAP says otherwise, handed in by the application), and none once the due
date has passed (the stage is already overdue). Requests and refusals change no status."""

# Written against the aggregate they belong to (`self: Concern`), as concern_commands.py.
# mypy: disable-error-code="misc"

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from domain.errors import Conflict
from domain.lifecycle import Status
from domain.principal import Actor
from domain.text import filled

if TYPE_CHECKING:
    from domain.concern import Concern

# The default cap; the application passes MINQING_EXTENSION_CAP (domain stays pure).
EXTENSION_CAP = 2


class ExtensionCommands:
    """The extension's request and refusal, and the rules every approval keeps."""

    def extensions_this_round(self: Concern) -> int:
        """How many extensions were approved in the current round of work."""
        return sum(1 for e in self.extensions if e["round"] == self.round)

    def check_extension(self: Concern, at: datetime, cap: int = EXTENSION_CAP) -> None:
        """Refuse (409) an extension past the cap (MINQING_EXTENSION_CAP: a parameter), of
        a due date already passed, or while the concern is suspended."""
        self.check_not_suspended()
        if self.status != Status.ASSIGNED.value or self.due_on is None:
            raise Conflict("only an assigned concern's due date is extended", "not_assigned")
        if self.extensions_this_round() >= cap:
            raise Conflict(
                f"at most {cap} extensions are approved in one round of work", "extension_cap"
            )
        if at.date() > self.due_on:
            raise Conflict(
                f"the due date {self.due_on} has passed: the stage is already overdue",
                "already_overdue",
            )

    def original_limit(self: Concern) -> timedelta:
        """The limit the round's assignment gave: its due date less the day it was set."""
        given = [d for d in self.due_history if d["reason"] is None]
        if not given:
            return timedelta(days=1)
        first = given[-1]
        limit: timedelta = first["due_on"] - first["set_at"].date()
        return max(timedelta(days=1), limit)

    def next_due_on(self: Concern) -> date:
        """The due date one more original limit gives."""
        if self.due_on is None:
            raise Conflict("only an assigned concern's due date is extended", "not_assigned")
        return self.due_on + self.original_limit()

    def request_extension(
        self: Concern, actor: Actor, reason: str, at: datetime, cap: int = EXTENSION_CAP
    ) -> None:
        """The owner asks for more time, with a reason."""
        self.check_extension(at, cap)
        if self.extension_request is not None:
            raise Conflict("an extension request already waits for the committee", "pending")
        self._extension_requested(
            filled("reason", reason), self.due_on, actor.id, actor.role.value, at
        )

    def refuse_extension(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """The committee refuses the waiting request, with a reason."""
        if self.extension_request is None:
            raise Conflict("no extension request waits for an answer", "no_request")
        self._extension_refused(filled("reason", reason), actor.id, actor.role.value, at)
