"""What commands take and give: new concerns and visits, Idempotency-Keys, results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from domain.geo import Point
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, Library, PriorityVisit


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key as sent by one principal, with a fingerprint of the request."""

    principal_id: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class CommandResult:
    """What a successful command returns: the aggregate's new version and log position."""

    id: str
    version: int
    position: int
    status: str | None = None
    reference: str | None = None
    tracking_code: str | None = None
    extra: dict[str, Any] | None = None
    replayed: bool = field(default=False, compare=False)

    def body(self) -> dict[str, Any]:
        """The JSON body of the HTTP response."""
        data = asdict(self)
        data.pop("replayed")
        extra = data.pop("extra") or {}
        return {**{k: v for k, v in data.items() if v is not None}, **extra}


@dataclass(frozen=True)
class NewVisit:
    """The fields of a household visit being recorded."""

    grid: str
    household: str
    visited_on: date
    priority_visit: PriorityVisit | None = None
    notes: str | None = None
    concern_ids: Sequence[UUID] = ()


@dataclass(frozen=True)
class NewConcern:
    """The fields of a concern being raised."""

    title: str
    description: str
    category: Category
    library: Library
    channel: Channel
    grid: str
    building: str | None = None
    priority_visit: PriorityVisit | None = None
    resident: ResidentData = field(default_factory=ResidentData)
    anonymous: bool = False
    place: UUID | None = None
    location: Point | None = None
