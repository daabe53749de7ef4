"""Stored events that can no longer be read: named by their position instead of failing blind.

Nothing in the log is ever updated, so an event whose stored bytes no longer decode (the
mapper's `MapperDeserialisationError`, a JSON or UTF-8 decode error, a cipher's refusal: all
`ValueError`s) was changed behind the application's back; `minqing audit verify` names it as
changed. The reads that meet one say which position it is: an aggregate's state cannot be
built without it (`UnreadableEvent`, raised by application/unreadable.py, answered as 500
`unreadable_event`), a history marks it, the integrator feed sends a stand-in for it
(domain/cloudevents.py), and a read model parks it (projections/parking.py).
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from domain import cloudevents

# What decoding a changed event's bytes raises: the mapper's error, JSON's, UTF-8's, a
# cipher's. All are ValueErrors.
UNDECODABLE: tuple[type[Exception], ...] = (ValueError,)


class UnreadableEvent(Exception):
    """A stored event of the aggregate being read cannot be decoded."""

    def __init__(
        self, position: int | None, aggregate_id: UUID, version: int, event_type: str
    ) -> None:
        where = f"position {position}" if position is not None else "an unknown position"
        super().__init__(
            f"the stored event at {where} ({event_type}, version {version} of {aggregate_id})"
            " cannot be read: its bytes have changed; see GET /api/v1/audit/verify"
        )
        self.position = position
        self.aggregate_id = aggregate_id
        self.version = version
        self.event_type = event_type


# -- its stand-in on the integrator channels (pull, stream, webhooks) ------------------------

# The name the integrator contract gives it (outside the versioned org.minqing.* catalogue:
# it is a fact about the log, not an event of the domain).
UNREADABLE_TYPE = "minqing.event.unreadable"
UNREADABLE_DESCRIPTION = (
    "Sent in place of a stored event that can no longer be read (its bytes have changed; "
    "GET /api/v1/audit/verify names it), so a consumer is never blocked: no data, the id "
    "the event would have had, its aggregate as subject, its position as sequence."
)


class Stored(Protocol):
    """What the log's row says about an event without decoding it."""

    @property
    def id(self) -> int: ...
    @property
    def originator_id(self) -> Any: ...
    @property
    def originator_version(self) -> int: ...


def unreadable_cloudevent(notification: Stored, source: str) -> dict[str, Any]:
    """The CloudEvent sent in place of an event that does not decode."""
    originator = UUID(str(notification.originator_id))
    return {
        "specversion": cloudevents.SPECVERSION,
        "id": cloudevents.event_id(originator, int(notification.originator_version)),
        "source": source,
        "type": UNREADABLE_TYPE,
        "subject": str(originator),
        "sequence": cloudevents.sequence(int(notification.id)),
    }


def unreadable_schema(public_url: str = cloudevents.DEFAULT_PUBLIC_URL) -> dict[str, Any]:
    """The JSON Schema of its `data`, served as the other types' are: it has none."""
    return {
        "$schema": cloudevents.JSON_SCHEMA,
        "$id": public_url.rstrip("/") + cloudevents.SCHEMA_PATH + UNREADABLE_TYPE,
        "title": UNREADABLE_TYPE,
        "description": UNREADABLE_DESCRIPTION + " This event has no `data`.",
        "not": {},
    }


def unreadable_envelope() -> dict[str, Any]:
    """The JSON Schema of the whole CloudEvent (AsyncAPI's payload of the message)."""
    return {
        "type": "object",
        "description": UNREADABLE_DESCRIPTION,
        "properties": {
            "specversion": {"const": cloudevents.SPECVERSION},
            "id": {"type": "string", "format": "uuid"},
            "source": {"type": "string", "format": "uri-reference"},
            "type": {"const": UNREADABLE_TYPE},
            "subject": {"type": "string", "format": "uuid", "description": "the aggregate id"},
            "sequence": {
                "type": "string",
                "pattern": f"^[0-9]{{{cloudevents.SEQUENCE_DIGITS}}}$",
                "description": "the log position, zero-padded",
            },
        },
        "required": ["specversion", "id", "source", "type", "subject", "sequence"],
        "additionalProperties": False,
    }
