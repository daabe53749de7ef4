"""The public event contract: each published domain event as a CloudEvents 1.0 JSON object.

One declaration per event type lists the fields integrators receive (with their JSON
Schema) and the fields withheld, with the reason. It is an allowlist: a field an event gains
later is not published until someone declares it here, and a unit test fails until every
field of every event class is either published or withheld. Index events are internal and
have no contract, so they are never published.

Pure: no framework, no I/O. The webhook dispatcher and the pull feed both call
`to_cloudevent`, so a consumer sees byte-for-byte the same object on every channel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.event_contract import (
    DEFAULT_PUBLIC_URL as DEFAULT_PUBLIC_URL,
)
from domain.event_contract import (
    JSON_SCHEMA as JSON_SCHEMA,
)
from domain.event_contract import (
    SCHEMA_PATH as SCHEMA_PATH,
)
from domain.event_contract import (
    TYPE_PREFIX as TYPE_PREFIX,
)
from domain.event_contract import (
    Contract as Contract,
)
from domain.published_events import (
    CONTRACTS as CONTRACTS,
)

SPECVERSION = "1.0"
DEFAULT_SOURCE = "urn:minqing:community"
DATA_CONTENT_TYPE = "application/json"
SEQUENCE_DIGITS = 20

# eventsourcing's events have no UUID of their own: an event is identified by its
# aggregate's id and version, which never change. A name-based (v5) UUID of that pair is
# therefore the same every time the event is read, on every channel, forever.
_ID_NAMESPACE = uuid5(NAMESPACE_URL, "urn:minqing:cloudevents")

# Event attributes that become envelope attributes (or are internal to the library).
ENVELOPE_FIELDS: Mapping[str, str] = {
    "originator_id": "the CloudEvents `subject`",
    "originator_version": "published as data.version",
    "at": "the CloudEvents `time` (business time)",
    "timestamp": "the library's recording time; `time` is the business time",
    "originator_topic": "the Python class path of the aggregate: internal",
}


class Positioned(Protocol):
    """A notification: what the log says about where an event is."""

    @property
    def id(self) -> int: ...


def event_id(originator_id: UUID, originator_version: int) -> str:
    """The event's stable CloudEvents `id` (also the webhook-id): the text of
    `uuid5(_ID_NAMESPACE, f"{originator_id}:{originator_version}")`, made from the SHA-1
    digest without two UUID objects (the feed makes one for every event it sends)."""
    name = f"{originator_id}:{originator_version}".encode()
    digest = bytearray(hashlib.sha1(_ID_NAMESPACE.bytes + name, usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def sequence(position: int) -> str:
    """The log position as the CloudEvents `sequence`: zero-padded so it sorts as text."""
    return f"{position:0{SEQUENCE_DIGITS}d}"


_BY_CLASS: Mapping[type, Contract] = {c.event_class: c for c in CONTRACTS}
BY_TYPE: Mapping[str, Contract] = {c.type: c for c in CONTRACTS}
BY_TOPIC: Mapping[str, Contract] = {c.topic: c for c in CONTRACTS}


def contract_for(event: object) -> Contract | None:
    """The contract of a published event, or None for an internal one (Index)."""
    return _BY_CLASS.get(type(event))


def topics_for(types: Collection[str] = ()) -> list[str]:
    """The log topics to read for these CloudEvents types (all published types if empty)."""
    chosen = [BY_TYPE[t] for t in types] if types else list(CONTRACTS)
    return sorted(c.topic for c in chosen)


def schemas(public_url: str = DEFAULT_PUBLIC_URL) -> dict[str, dict[str, Any]]:
    """Every published type's JSON Schema, by type."""
    return {c.type: c.schema(public_url) for c in CONTRACTS}


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _secret_unless_known(_: UUID) -> bool:
    # Without a way to look the meeting up, withhold the choice: the safe answer.
    return True


def to_cloudevent(
    notification: Positioned,
    event: Any,
    source: str,
    *,
    public_url: str = DEFAULT_PUBLIC_URL,
    is_secret_ballot: Callable[[UUID], bool] = _secret_unless_known,
) -> dict[str, Any]:
    """The event as a CloudEvents 1.0 JSON object; KeyError for an unpublished event.

    `public_url` is the service's public address, under which `dataschema` points at the
    event type's JSON Schema. `is_secret_ballot(meeting_id)` says whether a meeting votes
    by secret ballot: a VoteCast of such a meeting is published without its `choice`.
    """
    contract = contract_for(event)
    if contract is None:
        msg = f"{type(event).__qualname__} is not a published event"
        raise KeyError(msg)
    data: dict[str, Any] = {
        "version": event.originator_version,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
    }
    hidden = (
        contract.secret_ballot_fields
        if contract.secret_ballot_fields and is_secret_ballot(event.originator_id)
        else frozenset()
    )
    for name in contract.fields:
        if name not in hidden:
            # A field added to an event class later (Meeting.Scheduled's deputy_chair) is
            # missing from the events stored before: null, as its default.
            data[name] = _plain(getattr(event, name, None))
    return {
        "specversion": SPECVERSION,
        "id": event_id(event.originator_id, event.originator_version),
        "source": source,
        "type": contract.type,
        "subject": str(event.originator_id),
        "time": event.at.isoformat(),
        "sequence": sequence(notification.id),
        "datacontenttype": DATA_CONTENT_TYPE,
        "dataschema": contract.dataschema(public_url),
        "data": data,
    }
