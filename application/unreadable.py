"""Reading an aggregate whose stored events may no longer decode: the first such event is
raised as `UnreadableEvent` (domain/unreadable.py), named by its log position."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, MapperDeserialisationError

from domain.unreadable import UNDECODABLE, UnreadableEvent

# The log position of one stored event: (aggregate id, version) -> position.
PositionOf = Callable[[str, int], "int | None"]


def first_unreadable(
    mapper: Mapper[UUID], recorder: Any, position_of: PositionOf, aggregate_id: UUID
) -> UnreadableEvent | None:
    """The first event of the aggregate that does not decode, or None."""
    for stored in recorder.select_events(aggregate_id):
        try:
            mapper.to_domain_event(stored)
        except UNDECODABLE:
            version = int(stored.originator_version)
            return UnreadableEvent(
                position_of(str(aggregate_id), version),
                aggregate_id,
                version,
                str(stored.topic).rpartition(":")[2],
            )
    return None


@contextmanager
def reading(
    mapper: Mapper[UUID], recorder: Any, position_of: PositionOf, aggregate_id: UUID
) -> Iterator[None]:
    """Read the aggregate's events in the block; an event that does not decode is raised as
    `UnreadableEvent`, naming its position."""
    try:
        yield
    except MapperDeserialisationError as exc:
        found = first_unreadable(mapper, recorder, position_of, aggregate_id)
        if found is None:
            raise
        raise found from exc
