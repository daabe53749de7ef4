"""Graded supervision (督办): yellow and red cards on a concern, and the owner's reply.

The deadline watcher issues them by itself when an open stage passes the table's yellow
threshold, then its red one (domain/time_limits.py): once each per stage, and never red
before yellow (a stage found already past red gets its yellow card first, in the same
save). A supervisor may issue one by hand on any open concern, with a requirement and a
date to reply by; the owner replies. Cards change no status: like the watcher's other facts,
they are not transitions of the lifecycle table.
"""

# Written against the aggregate they belong to (`self: Concern`), as concern_commands.py.
# mypy: disable-error-code="misc"

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, Invalid
from domain.lifecycle import TERMINAL, Status
from domain.principal import Actor
from domain.text import filled
from domain.vocabulary import Labelled

if TYPE_CHECKING:
    from domain.concern import Concern


class Grade(Labelled):
    YELLOW = ("yellow", "黄牌督办", "Yellow card")
    RED = ("red", "红牌督办", "Red card")


def is_open(concern: Concern) -> bool:
    """Not closed: neither declined, merged nor withdrawn, nor resolved with its answer in."""
    status = Status(concern.status)
    if status in TERMINAL:
        return False
    return status != Status.RESOLVED or concern.feedback_pending


class SupervisionCommands:
    """The cards' commands, mixed into `Concern`."""

    def auto_cards_due(self: Concern, stage: str, started_at: datetime, colour: str) -> list[Grade]:
        """The automatic cards this stage's colour calls for that it has not had."""
        had = {
            c["grade"]
            for c in self.cards
            if c["automatic"] and c["stage"] == stage and c["stage_started_at"] == started_at
        }
        wanted = {"yellow": [Grade.YELLOW], "red": [Grade.YELLOW, Grade.RED]}.get(colour, [])
        return [g for g in wanted if g.value not in had]

    def issue_auto_card(
        self: Concern, actor: Actor, grade: Grade, stage: str, started_at: datetime, at: datetime
    ) -> None:
        """The watcher's card: yellow past the yellow threshold, red past the red one."""
        due = self.auto_cards_due(stage, started_at, "red" if grade == Grade.RED else "yellow")
        if grade not in due or (grade == Grade.RED and Grade.YELLOW in due):
            raise Conflict(f"the {stage} stage has had its {grade.value} card", "card_issued")
        reason = (
            f"the {stage} stage passed its time limit"
            if grade == Grade.RED
            else f"the {stage} stage passed the yellow threshold of its time limit"
        )
        self._card_issued(
            len(self.cards) + 1,
            grade.value,
            reason,
            stage,
            started_at,
            "",
            None,
            True,
            self.owner,
            actor.id,
            actor.role.value,
            at,
        )

    def supervise(
        self: Concern,
        actor: Actor,
        grade: Grade,
        requirement: str,
        reply_by: date,
        stage: str | None,
        stage_started_at: datetime | None,
        at: datetime,
    ) -> None:
        """A supervisor's card, with what must be done and when to reply by."""
        if not is_open(self):
            raise Conflict("a closed concern is not supervised", "not_open")
        text = filled("requirement", requirement)
        if reply_by < at.date():
            raise Invalid([("reply_by", "must not be in the past")])
        self._card_issued(
            len(self.cards) + 1,
            grade.value,
            text,
            stage,
            stage_started_at,
            text,
            reply_by,
            False,
            self.owner,
            actor.id,
            actor.role.value,
            at,
        )

    def unanswered_card(self: Concern) -> dict[str, Any] | None:
        """The earliest hand-issued card still waiting for the owner's reply."""
        return next((c for c in self.cards if not c["automatic"] and c["reply"] is None), None)

    def reply_supervision(self: Concern, actor: Actor, reply: str, at: datetime) -> None:
        """The owner's reply to the earliest card waiting for one."""
        card = self.unanswered_card()
        if card is None:
            raise Conflict("no supervision card waits for a reply", "no_card")
        self._supervision_replied(
            card["number"], filled("reply", reply), actor.id, actor.role.value, at
        )
