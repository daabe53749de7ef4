"""Who acts: a principal (someone or some system calling the service) and an actor (a
principal in the role they acted in, as every event records it)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.vocabulary import Role


@dataclass(frozen=True)
class Principal:
    """Someone (or some system) that calls the API, with roles and an optional grid scope."""

    id: str
    name: str
    roles: frozenset[Role]
    grids: frozenset[str]
    member_id: UUID | None = None

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
