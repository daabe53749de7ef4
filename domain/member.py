"""The Member registry: the people owners and meeting voters are chosen from."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.vocabulary import DutyRole

NAME_MAX = 100


class Member(Aggregate):
    """A party member or community worker who can be named owner or vote in the branch."""

    @event("Registered")
    def __init__(
        self,
        *,
        name: str,
        grids: list[str],
        duty_roles: list[str],
        votes_in_branch: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.name = name
        self.grids = grids
        self.duty_roles = duty_roles
        self.votes_in_branch = votes_in_branch
        self.registered_at = at
        # 党员亮身份: whether the public board may show this member's name by their work.
        self.shown_in_public = False

    @event("PublicIdentitySet")
    def _public_identity_set(
        self, shown: bool, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.shown_in_public = shown

    def set_public_identity(
        self, shown: bool, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        """Agree (or no longer agree) to be shown by name on the public board (党员亮身份)."""
        self._public_identity_set(shown, actor_id, actor_role, at)

    @classmethod
    def register(
        cls,
        *,
        name: str,
        grids: list[str],
        duty_roles: list[DutyRole],
        votes_in_branch: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> Member:
        """Add a member to the registry."""
        clean = name.strip()
        if not clean:
            raise Invalid([("name", "is required and must not be blank")])
        if len(clean) > NAME_MAX:
            raise Invalid([("name", f"must be at most {NAME_MAX} characters")])
        grid_names = [g.strip() for g in grids]
        if any(not g for g in grid_names):
            raise Invalid([("grids", "must not contain blank grid names")])
        return cls(
            name=clean,
            grids=sorted(set(grid_names)),
            duty_roles=[r.value for r in dict.fromkeys(duty_roles)],
            votes_in_branch=votes_in_branch,
            actor_id=actor_id,
            actor_role=actor_role,
            at=at,
        )
