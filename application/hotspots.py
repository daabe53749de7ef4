"""Recording a hotspot: the `Hotspot.Detected` event and its proactive concern (主动治理),
raised by the system and referred to the committee, in one save.

Both ids are derived from the hotspot's key and window (domain/hotspot.py), so the save
of a hotspot already recorded conflicts, whoever tries it and however often: recording is
decided by the store, never by a read model that may lag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.base import ATTEMPTS, Built, MinqingBase, back_off
from application.commands import CommandResult
from application.concern_changes import claims, numbered
from domain.errors import Conflict
from domain.hotspot import Hotspot, proactive_concern
from domain.hotspots import hotspot_id, proactive_concern_id
from domain.place import Place
from domain.principal import Actor
from domain.vocabulary import Category, Role

SYSTEM = Actor("system:hotspots", Role.SYSTEM)


@dataclass(frozen=True)
class FoundHotspot:
    """A hotspot as the read model found it."""

    grid: str
    kind: str  # "place" or "cell"
    where: str
    category: str
    starts: datetime
    ends: datetime
    concern_ids: tuple[str, ...]
    days: int
    high_incidence: bool

    @property
    def id(self) -> UUID:
        """The hotspot's id: its key and window."""
        return hotspot_id(self.grid, self.kind, self.where, self.category, self.starts)


class HotspotVerbs(MinqingBase):
    """Recording hotspots."""

    def record_hotspot(self, found: FoundHotspot) -> UUID | None:
        """Record the hotspot and put its proactive concern on the committee's queue, once:
        the proactive concern's id, or None when the hotspot was recorded already."""
        title, description = self._words(found)
        for attempt in range(ATTEMPTS):
            back_off(attempt)
            if self._get(found.id) is not None:
                return None
            at = self.clock()

            def build(number: int, at: datetime = at) -> Built:
                hotspot = Hotspot(
                    grid=found.grid,
                    kind=found.kind,
                    where=found.where,
                    category=found.category,
                    starts=found.starts,
                    ends=found.ends,
                    concern_ids=list(found.concern_ids),
                    count=len(found.concern_ids),
                    days=found.days,
                    high_incidence=found.high_incidence,
                    proactive_concern_id=proactive_concern_id(found.id),
                    actor_id=SYSTEM.id,
                    actor_role=SYSTEM.role.value,
                    at=at,
                )
                # A tracking code as a resident's concern has, though nobody is given this one.
                reference, code = numbered(number, at)
                concern = proactive_concern(
                    hotspot,
                    reference=reference,
                    tracking_code=code,
                    title=title,
                    description=description,
                    actor=SYSTEM,
                    at=at,
                )
                indexes = claims(concern.id, reference, code)
                result = CommandResult(
                    id=str(concern.id),
                    version=concern.version,
                    position=0,
                    status=concern.status,
                    reference=reference,
                )
                return concern, [hotspot, *indexes], result, []

            saved = self._save_numbered(f"reference:{at.year}", build, None)
            if saved is not None:
                return UUID(saved.id)
        raise Conflict(f"hotspot {found.id} could not be recorded; try again")

    def _words(self, found: FoundHotspot) -> tuple[str, str]:
        # In the community's language, as the residents' own concerns are: the title and
        # description are the concern's text, shown as they are to every reader.
        category = Category(found.category)
        where = f"网格 {found.grid} 的一个方格"
        if found.kind == "place":
            place = self._get(UUID(found.where))
            if isinstance(place, Place):
                where = place.name
        count = len(found.concern_ids)
        title = f"主动治理：{where} {category.zh}诉求 {count} 件"
        description = (
            f"{where}：{found.starts.date().isoformat()} 起 30 天内同类诉求 {count} 件，"
            f"分布在 {found.days} 天{'（高发）' if found.high_incidence else ''}。"
            f"由系统发现，提交支委会研究主动治理。"
        )
        return title[:200], description
