"""Suspension (挂账): the owner asks to stop the clock with a reason (waiting for another
body, the weather, funds) and a date to resume by; the committee approves or refuses. A
concern is suspended once at most, up to a maximum ahead (a year by default). While it is
suspended its stage's clock stops and no handling command runs (rule `suspended`); it
resumes by hand, or by itself at its `until` date (the deadline watcher), and the due date
then moves later by the suspended time. Requests and refusals change no status."""

# Written against the aggregate they belong to (`self: Concern`), as concern_commands.py.
# mypy: disable-error-code="misc"

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from domain.errors import Conflict, Invalid
from domain.lifecycle import Status
from domain.principal import Actor
from domain.supervision import is_open
from domain.text import filled
from domain.time_limits import STAGE_OF_STATUS

if TYPE_CHECKING:
    from domain.concern import Concern

# How far ahead a suspension may be asked to last, in days (MINQING_SUSPENSION_MAX_DAYS).
SUSPENSION_MAX_DAYS = 365


class SuspensionCommands:
    """Request, approve, refuse and resume a suspension, mixed into `Concern`."""

    @property
    def suspended(self: Concern) -> bool:
        """True while an approved suspension has not ended."""
        return self.suspension is not None and self.suspension["ended"] is None

    def check_not_suspended(self: Concern) -> None:
        """Refuse (409 `suspended`) a handling command while the concern is suspended."""
        if self.suspension is not None and self.suspension["ended"] is None:
            until = self.suspension["until"]
            raise Conflict(
                f"concern {self.reference} is suspended until {until}: resume it first",
                "suspended",
            )

    def request_suspension(
        self: Concern,
        actor: Actor,
        reason: str,
        until: date,
        at: datetime,
        max_days: int = SUSPENSION_MAX_DAYS,
    ) -> None:
        """The owner asks to suspend the work until a date, with a reason."""
        if not is_open(self):
            raise Conflict("a closed concern is not suspended", "not_open")
        if self.suspension is not None:
            raise Conflict("a concern is suspended once at most", "suspension_used")
        if self.status != Status.ASSIGNED.value:
            raise Conflict("only an assigned concern's work is suspended", "not_assigned")
        if self.suspension_request is not None:
            raise Conflict("a suspension request already waits for the committee", "pending")
        text = filled("reason", reason)
        latest = at.date() + timedelta(days=max_days)
        if until <= at.date():
            raise Invalid([("until", "must be a day after today")])
        if until > latest:
            raise Invalid([("until", f"must be at most {max_days} days ahead ({latest})")])
        stage = STAGE_OF_STATUS[self.status].value
        self._suspension_requested(text, until, stage, actor.id, actor.role.value, at)

    def approve_suspension(self: Concern, actor: Actor, at: datetime) -> None:
        """The committee approves the waiting request: the clock stops from now."""
        request = self.suspension_request
        if request is None:
            raise Conflict("no suspension request waits for an answer", "no_request")
        if self.status != Status.ASSIGNED.value:
            raise Conflict("only an assigned concern's work is suspended", "not_assigned")
        if request["until"] <= at.date():
            raise Conflict(
                f"the requested end {request['until']} has come: refuse it, and ask again",
                "until_passed",
            )
        self._suspension_approved(request["until"], actor.id, actor.role.value, at)

    def refuse_suspension(self: Concern, actor: Actor, reason: str, at: datetime) -> None:
        """The committee refuses the waiting request, with a reason."""
        if self.suspension_request is None:
            raise Conflict("no suspension request waits for an answer", "no_request")
        self._suspension_refused(filled("reason", reason), actor.id, actor.role.value, at)

    def resume_due(self: Concern, today: date) -> bool:
        """True when the suspension's `until` date has come and it has not ended yet."""
        return self.suspended and self.suspension is not None and self.suspension["until"] <= today

    def resume(
        self: Concern,
        actor: Actor,
        ended: datetime,
        due_on: date | None,
        at: datetime,
        *,
        automatic: bool = False,
    ) -> None:
        """End the suspension (by hand, or at its `until` date): the clock runs again from
        `ended`, and the due date is `due_on` (moved later by the suspended time)."""
        if not self.suspended:
            raise Conflict("the concern is not suspended", "not_suspended")
        self._resumed(automatic, ended, due_on, self.due_on, actor.id, actor.role.value, at)
