"""How one event class is published (the `Contract`): its CloudEvents type, its data fields
with their JSON Schema, and the fields withheld. The declarations, one per published event
class, are domain/published_events.py's allowlist."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eventsourcing.utils import get_topic

from domain.json_schema import COMMON_FIELDS

TYPE_PREFIX = "org.minqing"
# `dataschema` must be an absolute URI (CloudEvents 1.0), and one a consumer can fetch: the
# service's public address (MINQING_PUBLIC_URL) followed by the schema's path.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
SCHEMA_PATH = "/api/v1/events/schemas/"
JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Contract:
    """How one event class is published: its type, its data fields and what is withheld.
    (Its names are cached: the feed asks them of every event it sends.)"""

    event_class: type
    fields: Mapping[str, dict[str, Any]]
    withheld: Mapping[str, str] = field(default_factory=dict)
    # Fields left out when the event's meeting holds a secret ballot; optional in the schema.
    secret_ballot_fields: frozenset[str] = frozenset()
    version: int = 1

    @cached_property
    def aggregate(self) -> str:
        """`concern`, `meeting`, `member`, `visit` or `resident`: the aggregate, lower case."""
        return self.event_class.__qualname__.split(".")[0].lower()

    @cached_property
    def name(self) -> str:
        """The event class in snake case: `Raised` -> `raised`, `VoteCast` -> `vote_cast`."""
        return _snake(self.event_class.__name__)

    @cached_property
    def type(self) -> str:
        """The CloudEvents `type`, e.g. `org.minqing.meeting.vote_cast.v1`."""
        return f"{TYPE_PREFIX}.{self.aggregate}.{self.name}.v{self.version}"

    @cached_property
    def topic(self) -> str:
        """The topic the event log stores for this class."""
        return get_topic(self.event_class)

    @cached_property
    def schema_path(self) -> str:
        """Where this service serves the JSON Schema of `data` (a path)."""
        return SCHEMA_PATH + self.type

    def dataschema(self, public_url: str = DEFAULT_PUBLIC_URL) -> str:
        """The CloudEvents `dataschema`: the schema's absolute URL under `public_url`."""
        return public_url.rstrip("/") + self.schema_path

    def schema(self, public_url: str = DEFAULT_PUBLIC_URL) -> dict[str, Any]:
        """The JSON Schema (2020-12) that every `data` of this type validates against."""
        properties = {**COMMON_FIELDS, **self.fields}
        optional = self.secret_ballot_fields
        return {
            "$schema": JSON_SCHEMA,
            "$id": self.dataschema(public_url),
            "title": self.type,
            "description": f"data of {self.aggregate} event {self.event_class.__name__}",
            "type": "object",
            "properties": properties,
            "required": [name for name in properties if name not in optional],
            "additionalProperties": False,
        }


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def of(aggregate: type, name: str) -> type:
    """The event class `name` of `aggregate` (checked: eventsourcing's metaclass makes them,
    so mypy cannot see them)."""
    found = getattr(aggregate, name)
    base: type = getattr(aggregate, "Event")  # noqa: B009
    if not (isinstance(found, type) and issubclass(found, base)):
        msg = f"{aggregate.__name__}.{name} is not an event class"
        raise TypeError(msg)
    return found
