"""Graded supervision (督办): a supervisor's card, the owner's reply, and the cards the
deadline watcher issues by itself (domain/supervision.py holds the rules)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.base import ATTEMPTS, back_off
from application.commands import CommandResult, Idempotency
from application.time_limits import TimeLimitCommands, stage_facts
from domain.concern import Concern
from domain.errors import Conflict, Forbidden, VersionMismatch
from domain.permissions import check_grid, is_owner, require_role
from domain.principal import Actor, Principal
from domain.supervision import Grade
from domain.time_limits import Stage
from domain.vocabulary import Role

WATCHER = Actor("system:deadline-watcher", Role.SYSTEM)


class SupervisionVerbs(TimeLimitCommands):
    """Supervise, reply, and the watcher's cards."""

    def supervise(
        self,
        concern_id: UUID,
        principal: Principal,
        grade: Grade,
        requirement: str,
        reply_by: date,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Issue a yellow or red card by hand (supervisor), with a requirement and a date
        to reply by."""
        actor = Actor(principal.id, require_role(principal, Role.SUPERVISOR, "supervising"))

        def act(concern: Concern, at: datetime) -> None:
            check_grid(principal, concern.grid)
            clock = self.stage_clock_of(concern)
            stage = clock.stage.value if clock else None
            started = clock.started_at if clock else None
            concern.supervise(actor, grade, requirement, reply_by, stage, started, at)

        return self._card_change(concern_id, expected_version, idem, act)

    def reply_supervision(
        self,
        concern_id: UUID,
        principal: Principal,
        reply: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The owner's reply to the earliest card waiting for one."""

        def act(concern: Concern, at: datetime) -> None:
            if not is_owner(principal, concern):
                raise Forbidden("only the concern's owner replies to a supervision card")
            concern.reply_supervision(Actor(principal.id, Role.MEMBER), reply, at)

        return self._card_change(concern_id, expected_version, idem, act)

    def _card_change(
        self,
        concern_id: UUID,
        expected_version: int | None,
        idem: Idempotency | None,
        act: Callable[[Concern, datetime], None],
    ) -> CommandResult:
        if (replay := self._replay(idem)) is not None:
            return replay

        def attempt() -> CommandResult | None:
            concern = self._find_concern(concern_id)
            if expected_version is not None and concern.version != expected_version:
                raise VersionMismatch(expected_version, concern.version)
            act(concern, self.clock())
            result = CommandResult(
                id=str(concern.id), version=concern.version, position=0, status=concern.status
            )
            return self._save(concern, [], result, idem, [])

        return self._until_saved(attempt, f"concern {concern_id} kept changing; try again")

    def record_cards(self, concern_id: UUID) -> list[str]:
        """Issue the automatic cards an open stage's colour calls for; never twice, never
        red before yellow."""
        for attempt in range(ATTEMPTS):
            back_off(attempt)
            concern = self._find_concern(concern_id)
            events = self.repository.event_store.get(concern.id, lte=concern.version)
            facts = stage_facts(concern, events)
            stage = self.stage_reader()(facts)
            if stage is None or stage["suspended"]:  # a suspended stage's clock stopped
                return []
            started = facts.since
            due = concern.auto_cards_due(stage["name"], started, stage["colour"])
            if not due:
                return []
            now = self.clock()
            for grade in due:
                concern.issue_auto_card(WATCHER, grade, Stage(stage["name"]).value, started, now)
            try:
                self.save(concern)
            except IntegrityError:
                continue
            return [f"{g.value}_card" for g in due]
        raise Conflict(f"concern {concern_id} kept changing; try again")
