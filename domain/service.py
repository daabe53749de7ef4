"""Members who serve the community (在职党员进社区, 志愿者佩证上岗): the kinds of member, the
posts the community sets (设岗) and members claim (认岗), the service they record (顶岗), the
community's ratings of it and the periods it is evaluated over (半年初评、年终总评)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, Invalid
from domain.text import TEXT_MAX, filled
from domain.vocabulary import Labelled

NAME_MAX = 100
SEATS_MAX = 500
HOURS_MAX = 24


class MemberKind(Labelled):
    BRANCH = ("branch", "本支部党员", "Branch member")
    IN_SERVICE = ("in_service", "在职党员", "In-service member")
    VOLUNTEER = ("volunteer", "志愿者", "Volunteer")


class Rating(Labelled):
    EXCELLENT = ("excellent", "优秀", "Excellent")
    GOOD = ("good", "良好", "Good")
    FAIR = ("fair", "一般", "Fair")
    POOR = ("poor", "差", "Poor")


_PERIOD = re.compile(r"(\d{4})(H[12])?")


@dataclass(frozen=True)
class Period:
    """A half-year (`2026H2`, 半年初评) or a year (`2026`, 年终总评)."""

    name: str
    first: date
    last: date

    @classmethod
    def parse(cls, text: str, field: str = "period") -> Period:
        """`2026`, `2026H1` or `2026H2`; Invalid naming `field` otherwise."""
        found = _PERIOD.fullmatch(text.strip())
        if not found:
            raise Invalid([(field, "must be a year (2026) or a half-year (2026H1, 2026H2)")])
        year, half = int(found.group(1)), found.group(2)
        if not 2000 <= year <= 2100:
            raise Invalid([(field, "must be a year between 2000 and 2100")])
        if half == "H1":
            return cls(f"{year}H1", date(year, 1, 1), date(year, 6, 30))
        if half == "H2":
            return cls(f"{year}H2", date(year, 7, 1), date(year, 12, 31))
        return cls(str(year), date(year, 1, 1), date(year, 12, 31))

    def holds(self, day: date) -> bool:
        """True when `day` is in the period."""
        return self.first <= day <= self.last


class Post(Aggregate):
    """A post the community sets (设岗: 帮贫济困岗, 环境维护岗 …) with seats members claim."""

    @event("Set")
    def __init__(
        self,
        *,
        name: str,
        grid: str,
        duties: str,
        seats: int,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.name = name
        self.grid = grid
        self.duties = duties
        self.seats = seats
        self.holders: list[UUID] = []
        self.set_at = at

    @classmethod
    def set_up(
        cls,
        *,
        name: str,
        grid: str,
        duties: str,
        seats: int,
        actor_id: str,
        role: str,
        at: datetime,
    ) -> Post:
        """Set a post (设岗)."""
        if not 1 <= seats <= SEATS_MAX:
            raise Invalid([("seats", f"must be between 1 and {SEATS_MAX}")])
        return cls(
            name=filled("name", name, required=True, limit=NAME_MAX),
            grid=filled("grid", grid, required=True, limit=64),
            duties=filled("duties", duties, required=False, limit=TEXT_MAX),
            seats=seats,
            actor_id=actor_id,
            actor_role=role,
            at=at,
        )

    @event("Claimed")
    def _claimed(self, member: UUID, actor_id: str, actor_role: str, at: datetime) -> None:
        self.holders.append(member)

    def claim(self, member: UUID, actor_id: str, role: str, at: datetime) -> None:
        """A member claims a seat (认岗); refused when every seat is taken."""
        if member in self.holders:
            raise Conflict("the member already holds this post", rule="already_claimed")
        if len(self.holders) >= self.seats:
            raise Conflict(f"all {self.seats} seats of the post are taken", rule="post_full")
        self._claimed(member, actor_id, role, at)


class ServiceRecord(Aggregate):
    """Service a member gave (顶岗): when, how long, what, on which post if any."""

    @event("Recorded")
    def __init__(
        self,
        *,
        member: UUID,
        post: UUID | None,
        served_on: date,
        hours: float,
        what: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.member = member
        self.post = post
        self.served_on = served_on
        self.hours = hours
        self.what = what

    @classmethod
    def record(
        cls,
        *,
        member: UUID,
        post: UUID | None,
        served_on: date,
        hours: float,
        what: str,
        actor_id: str,
        role: str,
        at: datetime,
    ) -> ServiceRecord:
        """Record a member's service."""
        if not 0 < hours <= HOURS_MAX:
            raise Invalid([("hours", f"must be more than 0 and at most {HOURS_MAX}")])
        if served_on > at.date():
            raise Invalid([("date", "must not be in the future")])
        return cls(
            member=member,
            post=post,
            served_on=served_on,
            hours=hours,
            what=filled("what", what, required=True, limit=TEXT_MAX),
            actor_id=actor_id,
            actor_role=role,
            at=at,
        )
