"""Every read model the service runs, by name."""

from __future__ import annotations

from projections.achievements import Achievements
from projections.commitments import Commitments
from projections.concern_places import ConcernPlaces
from projections.concerns import ConcernList
from projections.event_counts import EventCounts
from projections.hotspots import Hotspots
from projections.ledger import Ledger
from projections.member_points import MemberPoints
from projections.open311 import Open311Updates
from projections.runner import Projection
from projections.scorecards import Scorecards

PROJECTIONS: tuple[type[Projection], ...] = (
    ConcernList,
    EventCounts,
    Achievements,
    MemberPoints,
    Open311Updates,
    Ledger,
    Commitments,
    ConcernPlaces,
    Scorecards,
    Hotspots,
)


def all_projections() -> list[Projection]:
    """A fresh instance of every projection, writing to its live tables."""
    return [cls() for cls in PROJECTIONS]


def names() -> list[str]:
    """The names of every projection, as the CLI and /readyz show them."""
    return [cls.name for cls in PROJECTIONS]
