"""Suspension (挂账): the owner's request, the committee's approval or refusal, resuming by
hand and the deadline watcher's automatic resumption at the until date (domain/suspensions.py
holds the rules; the stage clock's pause is domain/time_limits.py's)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.appeals import AppealVerbs
from application.base import ATTEMPTS, back_off
from application.commands import CommandResult, Idempotency
from domain.concern import Concern
from domain.errors import Conflict, Forbidden
from domain.permissions import check_grid, is_owner, require_role
from domain.principal import Actor, Principal
from domain.vocabulary import Role
from domain.work_calendar import Unit, end_of_day

WATCHER = Actor("system:deadline-watcher", Role.SYSTEM)


class SuspensionVerbs(AppealVerbs):
    """Request, approve, refuse and resume a suspension."""

    def request_suspension(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        until: date,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The owner asks the committee to suspend the work until a date, with a reason."""

        def act(concern: Concern, at: datetime) -> None:
            if not is_owner(principal, concern):
                raise Forbidden("only the concern's owner requests a suspension")
            actor = Actor(principal.id, Role.MEMBER)
            concern.request_suspension(actor, reason, until, at, self.suspension_max_days)

        return self._card_change(concern_id, expected_version, idem, act)

    def approve_suspension(
        self,
        concern_id: UUID,
        principal: Principal,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The committee approves the waiting request: the clock stops until it resumes."""
        require_role(principal, Role.COMMITTEE, "approving a suspension")

        def act(concern: Concern, at: datetime) -> None:
            check_grid(principal, concern.grid)
            concern.approve_suspension(Actor(principal.id, Role.COMMITTEE), at)

        return self._card_change(concern_id, expected_version, idem, act)

    def refuse_suspension(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The committee refuses the waiting request, with a reason."""
        require_role(principal, Role.COMMITTEE, "refusing a suspension")

        def act(concern: Concern, at: datetime) -> None:
            check_grid(principal, concern.grid)
            concern.refuse_suspension(Actor(principal.id, Role.COMMITTEE), reason, at)

        return self._card_change(concern_id, expected_version, idem, act)

    def resume(
        self,
        concern_id: UUID,
        principal: Principal,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Resume a suspended concern by hand (its owner, or the committee): the clock runs
        again and the due date moves later by the time suspended."""

        def act(concern: Concern, at: datetime) -> None:
            if is_owner(principal, concern):
                actor = Actor(principal.id, Role.MEMBER)
            elif Role.COMMITTEE in principal.roles:
                check_grid(principal, concern.grid)
                actor = Actor(principal.id, Role.COMMITTEE)
            else:
                raise Forbidden("only the concern's owner or the committee resumes it")
            concern.resume(actor, at, self.due_after_suspension(concern, at), at)

        return self._card_change(concern_id, expected_version, idem, act)

    def resume_if_due(self, concern_id: UUID) -> list[str]:
        """Resume a suspension whose until date has come (the deadline watcher), from the
        start of that day; never twice."""
        for attempt in range(ATTEMPTS):
            back_off(attempt)
            concern = self._find_concern(concern_id)
            now = self.clock()
            if not concern.resume_due(now.date()) or concern.suspension is None:
                return []
            until: date = concern.suspension["until"]
            ended = min(now, datetime.combine(until, time(), self.zone))
            due_on = self.due_after_suspension(concern, ended)
            concern.resume(WATCHER, ended, due_on, now, automatic=True)
            try:
                self.save(concern)
            except IntegrityError:
                continue
            return ["Resumed"]
        raise Conflict(f"concern {concern_id} kept changing; try again")

    def due_after_suspension(self, concern: Concern, ended: datetime) -> date | None:
        """The due date moved later by the time suspended, counted on the work calendar in
        the handling stage's unit (a part of a day moves it a whole day: the owner is not
        penalised)."""
        due, held = concern.due_on, concern.suspension
        if due is None or held is None:
            return due
        clock = self.stage_clock_of(concern)
        unit = clock.unit if clock is not None else Unit.WORKING_DAYS
        since: datetime = held["since"]
        calendar = self.work_calendar(since.year, ended.year + 2)
        paused = calendar.used(since, ended, unit)
        if paused <= 0:
            return due
        moved = calendar.deadline(end_of_day(due, self.zone), paused, unit)
        return max(due, (moved - timedelta(microseconds=1)).astimezone(self.zone).date())
