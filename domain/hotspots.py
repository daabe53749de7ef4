"""The hotspot rule: a place (or a cell) and a category the same concerns keep coming from.

A hotspot is at least `REPEATED` concerns of one category at one place (or, without a place,
one cell) within `WINDOW`; it is of *high incidence* at `HIGH_COUNT` concerns on at least
`HIGH_DAYS` distinct days of its window. Concerns without a location, and those filed at
the office's own address, are left out: they would make a false hotspot of the office.

Each hotspot belongs to a window that starts at its first concern: once a key has a hotspot,
its concerns of the next `WINDOW` count towards that one (its count and days grow) and no
second one is raised until a concern comes after the window ended. So sweeping the same
concerns again finds the same hotspots, each once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

WINDOW = timedelta(days=30)
REPEATED = 3
HIGH_COUNT = 10
HIGH_DAYS = 5


@dataclass(frozen=True)
class Sighting:
    """One concern as the rule sees it."""

    concern_id: str
    category: str
    at: datetime
    place: str | None = None
    cell: str | None = None
    at_office: bool = False

    @property
    def key(self) -> tuple[str, str, str] | None:
        """(place or cell, which, category); None when it cannot count."""
        if self.at_office:
            return None
        if self.place:
            return ("place", self.place, self.category)
        if self.cell:
            return ("cell", self.cell, self.category)
        return None


@dataclass
class Hotspot:
    """A hotspot and its window, with the concerns behind it in time order."""

    kind: str  # "place" or "cell"
    where: str
    category: str
    starts: datetime
    concern_ids: list[str] = field(default_factory=list)
    days: set[str] = field(default_factory=set)

    @property
    def ends(self) -> datetime:
        """The end of its window."""
        return self.starts + WINDOW

    @property
    def count(self) -> int:
        """How many concerns."""
        return len(self.concern_ids)

    @property
    def high_incidence(self) -> bool:
        """At least HIGH_COUNT concerns on at least HIGH_DAYS distinct days."""
        return self.count >= HIGH_COUNT and len(self.days) >= HIGH_DAYS


def detect(sightings: Iterable[Sighting]) -> list[Hotspot]:
    """Every hotspot among these concerns, in the order each one appeared."""
    by_key: dict[tuple[str, str, str], list[Sighting]] = defaultdict(list)
    for s in sightings:
        if (key := s.key) is not None:
            by_key[key].append(s)
    found: list[tuple[datetime, Hotspot]] = []
    for (kind, where, category), seen in by_key.items():
        seen.sort(key=lambda s: (s.at, s.concern_id))
        current: Hotspot | None = None
        for i, s in enumerate(seen):
            if current is not None and s.at < current.ends:
                current.concern_ids.append(s.concern_id)
                current.days.add(s.at.date().isoformat())
                continue
            current = None
            # Does a window starting here hold REPEATED concerns? Then a hotspot starts here.
            window = [o for o in seen[i:] if o.at < s.at + WINDOW]
            if len(window) >= REPEATED:
                current = Hotspot(kind, where, category, s.at, [s.concern_id])
                current.days.add(s.at.date().isoformat())
                appeared = window[REPEATED - 1].at
                found.append((appeared, current))
    found.sort(key=lambda pair: (pair[0], pair[1].where))
    return [h for _, h in found]


def hotspot_id(grid: str, kind: str, where: str, category: str, starts: datetime) -> UUID:
    """The id of the grid's hotspot at `where` (a place id or a cell id) whose window opens
    at `starts`: the same hotspot keeps its id however often it is detected."""
    key = f"{grid}:{kind}:{where}:{category}:{starts.isoformat()}"
    return uuid5(NAMESPACE_URL, f"minqing:hotspot:{key}")


def proactive_concern_id(hotspot: UUID) -> UUID:
    """The id of the proactive concern a hotspot raises (one per hotspot)."""
    return uuid5(NAMESPACE_URL, f"minqing:hotspot-concern:{hotspot}")
