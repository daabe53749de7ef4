"""A hotspot as recorded (`Hotspot.Detected`), and the proactive concern (主动治理) it puts
on the committee's desk.

The hotspot's id is derived from its key and window (`hotspot_id`), and its proactive
concern's id from the hotspot's, so recording the same hotspot twice is impossible: the
second save of version 1 of either aggregate conflicts, whoever tries it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.concern import Concern
from domain.hotspots import hotspot_id
from domain.principal import Actor
from domain.vocabulary import Category, Library

# The kind of a concern the system raised from a hotspot; a resident's concern is "resident".
PROACTIVE = "proactive"
# The channel recorded on a proactive concern: no resident brought it, the system found it.
PROACTIVE_CHANNEL = "proactive"


class Hotspot(Aggregate):
    """A place (or cell) and category the same concerns keep coming from, in one window."""

    @staticmethod
    def create_id(
        grid: str, kind: str, where: str, category: str, starts: datetime, **_: Any
    ) -> UUID:
        return hotspot_id(grid, kind, where, category, starts)

    @event("Detected")
    def __init__(
        self,
        *,
        grid: str,
        kind: str,
        where: str,
        category: str,
        starts: datetime,
        ends: datetime,
        concern_ids: list[str],
        count: int,
        days: int,
        high_incidence: bool,
        proactive_concern_id: UUID,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.grid = grid
        self.kind = kind
        self.where = where
        self.category = category
        self.starts = starts
        self.ends = ends
        self.concern_ids = concern_ids
        self.count = count
        self.days = days
        self.high_incidence = high_incidence
        self.proactive_concern_id = proactive_concern_id
        self.detected_at = at


def proactive_concern(
    hotspot: Hotspot,
    *,
    reference: str,
    tracking_code: str,
    title: str,
    description: str,
    actor: Actor,
    at: datetime,
) -> Concern:
    """The hotspot's draft item for the committee: a concern of kind `proactive`, raised by
    the system with no resident, linked to the concerns behind the hotspot, and referred to
    the committee at once (intake → committee, as `refer` would)."""
    concern = Concern(
        reference=reference,
        tracking_code=tracking_code,
        title=title,
        description=description,
        category=Category(hotspot.category).value,
        library=Library.PROBLEM.value,
        channel=PROACTIVE_CHANNEL,
        grid=hotspot.grid,
        building=None,
        priority_visit=None,
        resident_ref=None,
        resident_data=None,
        anonymous=False,
        actor_id=actor.id,
        actor_role=actor.role.value,
        at=at,
        place=UUID(hotspot.where) if hotspot.kind == "place" else None,
        location=None,
        kind=PROACTIVE,
        hotspot=hotspot.id,
        linked=list(hotspot.concern_ids),
    )
    concern.refer(actor, "主动治理：热点自动提交支委会 (a hotspot, referred by the system)", at)
    return concern
