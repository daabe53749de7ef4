"""In-service members and volunteers at work (在职党员进社区): posts set and claimed, service
recorded, the community's feedback, and the evaluation of a period from them. Each command
loads (or makes) one aggregate, calls its method and saves it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.base import MinqingBase
from application.commands import CommandResult, Idempotency
from domain.errors import Conflict, NotFound
from domain.member import Member
from domain.permissions import check_grid, require_role
from domain.principal import Principal
from domain.service import Period, Post, Rating, ServiceRecord
from domain.vocabulary import Role

_STAFF = (Role.STAFF, Role.ADMIN)


class ServiceCommands(MinqingBase):
    """Posts, claims, service records, feedback; and the evaluation of a period."""

    def set_post(
        self,
        principal: Principal,
        name: str,
        grid: str,
        duties: str,
        seats: int,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Set a post (设岗) in a grid, with its duties and number of seats."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = require_role(principal, _STAFF, "setting a post")
        check_grid(principal, grid.strip())
        post = Post.set_up(
            name=name,
            grid=grid,
            duties=duties,
            seats=seats,
            actor_id=principal.id,
            role=role.value,
            at=self.clock(),
        )
        result = CommandResult(id=str(post.id), version=post.version, position=0)
        saved = self._save(post, [], result, idem, [])
        if saved is None:  # a fresh UUID cannot collide: only the idempotency row can
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def get_post(self, post_id: UUID) -> Post:
        """One post."""
        found = self._get(post_id)
        if not isinstance(found, Post):
            raise NotFound("post", post_id) from None
        return found

    def list_posts(self) -> list[Post]:
        """Every post, in the order they were set."""
        return self._all_of(Post)

    def claim_post(
        self, post_id: UUID, principal: Principal, member_id: UUID, idem: Idempotency | None = None
    ) -> CommandResult:
        """A member claims a seat of the post (认岗): the member themselves or staff; 409
        `post_full` when every seat is taken."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = self._for_member(principal, member_id, "claiming a post")
        self._member(member_id, "member")

        def attempt() -> CommandResult | None:
            post = self.get_post(post_id)
            post.claim(member_id, principal.id, role, self.clock())
            result = CommandResult(id=str(post.id), version=post.version, position=0)
            return self._save(post, [], result, idem, [])

        return self._until_saved(attempt, f"post {post_id} kept changing; try again")

    def record_service(
        self,
        principal: Principal,
        member_id: UUID,
        post_id: UUID | None,
        served_on: date,
        hours: float,
        what: str,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record a member's service (顶岗): the member themselves or staff."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = self._for_member(principal, member_id, "recording service")
        self._member(member_id, "member")
        if post_id is not None:
            self.get_post(post_id)
        record = ServiceRecord.record(
            member=member_id,
            post=post_id,
            served_on=served_on,
            hours=hours,
            what=what,
            actor_id=principal.id,
            role=role,
            at=self.clock(),
        )
        result = CommandResult(id=str(record.id), version=record.version, position=0)
        saved = self._save(record, [], result, idem, [])
        if saved is None:
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def give_feedback(
        self,
        member_id: UUID,
        principal: Principal,
        period: str,
        rating: Rating,
        comment: str | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The community's feedback on how a member served in a period (staff, committee)."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = require_role(principal, (Role.STAFF, Role.COMMITTEE), "giving feedback")
        name = Period.parse(period).name

        def attempt() -> CommandResult | None:
            member = self._member(member_id, "member", not_found=True)
            member.give_feedback(
                name, rating.value, comment, principal.id, role.value, self.clock()
            )
            result = CommandResult(id=str(member.id), version=member.version, position=0)
            return self._save(member, [], result, idem, [])

        return self._until_saved(attempt, f"member {member_id} kept changing; try again")

    def service_records(self) -> Iterator[Any]:
        """Every recorded service event, in log order."""
        topic = get_topic(ServiceRecord.Recorded)  # type: ignore[attr-defined]
        for n in self._read_log([topic]):
            yield self.mapper.to_domain_event(n)

    def evaluations(self, principal: Principal, period: Period) -> list[dict[str, Any]]:
        """Each member's service in `period` (within the caller's grids): hours served,
        posts held and the community's feedback. The read models add concerns and points."""
        hours: dict[UUID, float] = {}
        for e in self.service_records():
            if period.holds(e.served_on):
                hours[e.member] = hours.get(e.member, 0.0) + float(e.hours)
        posts: dict[UUID, list[str]] = {}
        for post in self.list_posts():
            for holder in post.holders:
                posts.setdefault(holder, []).append(post.name)
        found = []
        for m in self._all_of(Member):
            if principal.grids and not principal.grids & set(m.grids):
                continue
            feedback = [f for f in m.feedback if f["period"] == period.name]
            found.append(
                {
                    "member_id": str(m.id),
                    "name": m.name,
                    "kind": m.kind,
                    "organisation": m.organisation,
                    "grids": m.grids,
                    "hours": round(hours.get(m.id, 0.0), 2),
                    "posts": posts.get(m.id, []),
                    "feedback": feedback[-1]["rating"] if feedback else None,
                    "feedback_comment": feedback[-1]["comment"] if feedback else None,
                }
            )
        return found

    def _for_member(self, principal: Principal, member_id: UUID, doing: str) -> str:
        if principal.member_id == member_id:
            return Role.MEMBER.value
        return require_role(principal, _STAFF, doing).value
