"""Who acts: a principal (someone or some system calling the service) and an actor (a
principal in the role they acted in, as every event records it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from domain.errors import Invalid
from domain.vocabulary import Role


@dataclass(frozen=True)
class Principal:
    """Someone (or some system) that calls the API, with roles and an optional grid scope."""

    id: str
    name: str
    roles: frozenset[Role]
    grids: frozenset[str]
    member_id: UUID | None = None

    @classmethod
    def new(
        cls,
        name: str,
        roles: list[Role],
        grids: list[str] | None = None,
        member_id: UUID | None = None,
    ) -> Principal:
        """A new principal with a fresh id; a name and at least one role are required."""
        clean = name.strip()
        if not clean:
            raise Invalid([("name", "is required")])
        if not roles:
            raise Invalid([("roles", "at least one role is required")])
        return cls(
            id=str(uuid.uuid4()),
            name=clean,
            roles=frozenset(roles),
            grids=frozenset(g.strip() for g in grids or [] if g.strip()),
            member_id=member_id,
        )

    def covers(self, grid: str) -> bool:
        """True when the principal's grid scope includes `grid` (no scope: every grid)."""
        return not self.grids or grid in self.grids

    def as_dict(self) -> dict[str, object]:
        """Plain data for the API and the CLI."""
        return {
            "id": self.id,
            "name": self.name,
            "roles": sorted(r.value for r in self.roles),
            "grids": sorted(self.grids),
            "member_id": str(self.member_id) if self.member_id else None,
        }


@dataclass(frozen=True)
class Actor:
    """Who did something: the principal's id and the role they acted in."""

    id: str
    role: Role
