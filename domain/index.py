"""Index aggregates: a unique key (reference, tracking code) pointing at a concern."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:minqing:index")


class Index(Aggregate):
    """Claims `key` for one concern; a second claim of the same key fails to save."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(_NAMESPACE, key)

    @event("Claimed")
    def __init__(self, key: str, target: UUID) -> None:
        self.key = key
        self.target = target
