"""JSON Schema fragments of the published event contract (domain/cloudevents.py): the
types of `data` fields, the tally and rules objects, and the fields every event carries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from domain.lifecycle import Status
from domain.vocabulary import DutyRole, Role
from domain.voting import Ballot, Outcome


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]}


def enum(values: type[Enum] | Iterable[str]) -> dict[str, Any]:
    names = [m.value for m in values] if isinstance(values, type) else list(values)
    return {"type": "string", "enum": names}


STRING: dict[str, Any] = {"type": "string"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
INTEGER: dict[str, Any] = {"type": "integer"}
UUID_STRING: dict[str, Any] = {"type": "string", "format": "uuid"}
DATE_STRING: dict[str, Any] = {"type": "string", "format": "date"}
DATETIME_STRING: dict[str, Any] = {"type": "string", "format": "date-time"}
STATUS = enum(Status)
DUTY_ROLE = enum(DutyRole)
TALLY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "for": INTEGER,
        "against": INTEGER,
        "abstain": INTEGER,
        "voted": INTEGER,
        "entitled": INTEGER,
        "present": INTEGER,
        "quorum_reached": BOOLEAN,
        "outcome": enum(Outcome),
        "reason": STRING,
    },
    "required": [
        "for",
        "against",
        "abstain",
        "voted",
        "entitled",
        "present",
        "quorum_reached",
        "outcome",
        "reason",
    ],
    "additionalProperties": False,
}
# The quorum as judged when a vote opened (or when the chair declared the meeting inquorate).
QUORUM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rule": STRING,
        "article": INTEGER,
        "entitled": INTEGER,
        "present": INTEGER,
        "needed": INTEGER,
        "reached": BOOLEAN,
    },
    "required": ["rule", "article", "entitled", "present", "needed", "reached"],
}
RULES: dict[str, Any] = {
    "type": "object",
    "properties": {"quorum": STRING, "threshold": STRING, "ballot": enum(Ballot)},
    "required": ["quorum", "threshold", "ballot"],
    "additionalProperties": False,
}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


# Every published event carries these, whatever its type.
COMMON_FIELDS: Mapping[str, dict[str, Any]] = {
    "version": {"type": "integer", "minimum": 1, "description": "the aggregate's version"},
    "actor_id": {"type": "string", "description": "the principal who did it (pseudonymous)"},
    "actor_role": enum(Role),
}
