"""The Member registry: the people owners and meeting voters are chosen from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
        # A branch member unless the registration says in-service (报到) or volunteer.
        self.kind = "branch"
        self.organisation: str | None = None
        self.reported_on: date | None = None
        self.badge_number: str | None = None
        self.feedback: list[dict[str, Any]] = []

    @event("ReportedIn")
    def _reported_in(
        self, organisation: str, reported_on: date, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.kind = "in_service"
        self.organisation = organisation
        self.reported_on = reported_on

    @event("Badged")
    def _badged(self, badge_number: str, actor_id: str, actor_role: str, at: datetime) -> None:
        self.kind = "volunteer"
        self.badge_number = badge_number

    @event("FeedbackGiven")
    def _feedback_given(
        self, period: str, rating: str, comment: str, actor_id: str, actor_role: str, at: datetime
    ) -> None:
        self.feedback.append({"period": period, "rating": rating, "comment": comment, "at": at})

    def give_feedback(
        self, period: str, rating: str, comment: str | None, actor_id: str, role: str, at: datetime
    ) -> None:
        """The community's feedback on how the member served in `period`."""
        text = (comment or "").strip()
        if len(text) > 2000:
            raise Invalid([("comment", "must be at most 2000 characters")])
        self._feedback_given(period, rating, text, actor_id, role, at)

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
        kind: str = "branch",
        organisation: str | None = None,
        reported_on: date | None = None,
        badge_number: str | None = None,
    ) -> Member:
        """Add a member to the registry: a branch member, an in-service member who reported
        to the community (报到: organisation and date) or a badged volunteer. Only branch
        members vote in the branch."""
        clean = name.strip()
        if not clean:
            raise Invalid([("name", "is required and must not be blank")])
        if len(clean) > NAME_MAX:
            raise Invalid([("name", f"must be at most {NAME_MAX} characters")])
        grid_names = [g.strip() for g in grids]
        if any(not g for g in grid_names):
            raise Invalid([("grids", "must not contain blank grid names")])
        org = (organisation or "").strip()
        badge = (badge_number or "").strip()
        if kind == "in_service" and (not org or reported_on is None):
            raise Invalid(
                [("organisation", "an in-service member needs organisation and reported_on")]
            )
        if kind == "volunteer" and not badge:
            raise Invalid([("badge_number", "a volunteer needs a badge number")])
        if len(org) > NAME_MAX or len(badge) > 64:
            raise Invalid([("organisation", f"must be at most {NAME_MAX} characters")])
        member = cls(
            name=clean,
            grids=sorted(set(grid_names)),
            duty_roles=[r.value for r in dict.fromkeys(duty_roles)],
            votes_in_branch=votes_in_branch and kind == "branch",
            actor_id=actor_id,
            actor_role=actor_role,
            at=at,
        )
        if kind == "in_service" and reported_on is not None:
            member._reported_in(org, reported_on, actor_id, actor_role, at)
        elif kind == "volunteer":
            member._badged(badge, actor_id, actor_role, at)
        return member
