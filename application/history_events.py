"""An aggregate's stored events as plain history entries, decoded straight to JSON values.

A history is shown, not replayed: building each event object through the library's mapper
only for `event_entry` to take it apart again cost most of a long history's time
(bench/audit.py). Here the stored JSON is read without the transcoder's object hook, and its
tagged values (`{"_type_": …, "_data_": …}`) become the plain values a history shows. An
event class with a `class_version` (upcasting) goes through the mapper as before, so both
paths give the same entry (tests/integration/test_history_timeline.py checks they agree).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import resolve_topic

from domain.plain import plain
from domain.unreadable import UNDECODABLE

# What building an entry raises when the stored bytes changed: they do not decode, or they
# decode to something that is not the event its topic names.
_UNREADABLE: tuple[type[Exception], ...] = (*UNDECODABLE, KeyError, TypeError, AttributeError)

# Event attributes a history does not list under `data`: the envelope, and the resident's
# sealed data.
HIDDEN_EVENT_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "actor_id",
        "actor_role",
        "at",
        "resident_data",
    }
)

# The transcodings the application registers, as the plain values a history shows: a UUID
# with its dashes, times and dates as the ISO text they were stored as.
_PLAIN: Mapping[str, Callable[[Any], Any]] = {
    "uuid_hex": lambda hex_: str(UUID(hex_)),
    "datetime_iso": str,
    "date_iso": str,
    "decimal_str": str,
}


@dataclass(frozen=True)
class Entry:
    """One history entry and the event class it came from."""

    event_class: type
    data: dict[str, Any]


def event_entry(e: Any) -> dict[str, Any]:
    """A decoded domain event as a history entry."""
    data = {k: plain(v) for k, v in vars(e).items() if k not in HIDDEN_EVENT_FIELDS}
    return {
        "version": e.originator_version,
        "type": type(e).__name__,
        "at": plain(e.at),
        "recorded_at": plain(e.timestamp),
        "actor": e.actor_id,
        "role": e.actor_role,
        "data": data,
    }


def entries(mapper: Mapper[UUID], stored_events: Sequence[StoredEvent]) -> list[Entry]:
    """Every stored event as a history entry, in the order given."""
    return [_entry(mapper, s) for s in stored_events]


def _entry(mapper: Mapper[UUID], stored: StoredEvent) -> Entry:
    cls = resolve_topic(stored.topic)
    try:
        return _decoded(mapper, stored, cls)
    except _UNREADABLE:
        # Its bytes changed (domain/unreadable.py): listed in its place and marked, so the
        # rest of the history still reads.
        return Entry(cls, unreadable_entry(stored.originator_version, cls.__name__))


def unreadable_entry(version: int, stored_type: str) -> dict[str, Any]:
    """The history entry of an event whose stored bytes no longer decode."""
    return {
        "version": version,
        "type": "unreadable",
        "unreadable": True,
        "stored_type": stored_type,
        "at": None,
        "recorded_at": None,
        "actor": None,
        "role": None,
        "data": {},
    }


def _decoded(mapper: Mapper[UUID], stored: StoredEvent, cls: type) -> Entry:
    if getattr(cls, "class_version", 1) != 1:
        return Entry(cls, event_entry(mapper.to_domain_event(stored)))
    raw = stored.state
    if mapper.cipher:
        raw = mapper.cipher.decrypt(raw)
    if mapper.compressor:
        raw = mapper.compressor.decompress(raw)
    state: dict[str, Any] = json.loads(raw)
    data = {k: _untag(v) for k, v in state.items() if k not in HIDDEN_EVENT_FIELDS}
    return Entry(
        cls,
        {
            "version": stored.originator_version,
            "type": cls.__name__,
            "at": _untag(state["at"]),
            "recorded_at": _untag(state["timestamp"]),
            "actor": state["actor_id"],
            "role": state["actor_role"],
            "data": data,
        },
    )


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return _PLAIN[value["_type_"]](value["_data_"])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value
