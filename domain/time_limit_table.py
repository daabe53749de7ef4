"""The time limits table (时限表) as events: one aggregate for the community, each change the
whole table, so its history shows every table that was in force and who set it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.principal import Actor
from domain.time_limits import DEFAULT_LIMITS, DEFAULT_THRESHOLDS, Limit, Thresholds, parse_limits

_ID = uuid5(NAMESPACE_URL, "urn:minqing:time-limits")


class TimeLimitTable(Aggregate):
    """The limits per stage (by category, library and mode) and the colours' thresholds."""

    @staticmethod
    def create_id() -> UUID:
        return _ID

    @event("Started")
    def __init__(self, *, actor_id: str, actor_role: str, at: datetime) -> None:
        self.rows: list[dict[str, Any]] = [r.as_dict() for r in DEFAULT_LIMITS]
        self.yellow = DEFAULT_THRESHOLDS.yellow
        self.red = DEFAULT_THRESHOLDS.red
        self.updated_at = at

    @classmethod
    def start(cls, actor: Actor, at: datetime) -> TimeLimitTable:
        """The table with the defaults."""
        return cls(actor_id=actor.id, actor_role=actor.role.value, at=at)

    def change(
        self, rows: list[dict[str, Any]], yellow: int, red: int, actor: Actor, at: datetime
    ) -> None:
        """Replace the table (admin)."""
        limits = parse_limits(rows)
        if not 0 < yellow < red <= 1000:
            raise Invalid([("thresholds", "yellow must be above 0 and below red")])
        self._set([r.as_dict() for r in limits], yellow, red, actor.id, actor.role.value, at)

    @event("Set")
    def _set(
        self,
        rows: list[dict[str, Any]],
        yellow: int,
        red: int,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.rows = rows
        self.yellow = yellow
        self.red = red
        self.updated_at = at

    @property
    def limits(self) -> list[Limit]:
        """The rows as limits."""
        return parse_limits(self.rows)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.yellow, self.red)
