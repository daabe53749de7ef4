"""A small office on the in-memory store (adapters/memory.py): the people, members and
moves the verb tests share. No database anywhere."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from adapters.memory import memory_env
from application.minqing import CommandResult, Minqing, NewConcern
from domain.lifecycle import Status
from domain.meeting import MeetingKind
from domain.principal import Principal
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library, Role
from domain.voting import Choice
from domain.work_calendar import WORKING_PERIODS, Period

ZONE = ZoneInfo("Asia/Shanghai")
RESIDENT = ResidentData(name="张秀英", phone="13812345678", address="幸福里5号楼2单元301")


def person(name: str, *roles: Role, member: UUID | None = None) -> Principal:
    """A principal of every grid."""
    return Principal(f"{name}-id", name, frozenset(roles), frozenset(), member)


STAFF = person("staff", Role.STAFF)
GRID_LEADER = person("grid-leader", Role.GRID_LEADER)
COMMITTEE = person("committee", Role.COMMITTEE)
COLLECTOR = person("collector", Role.COLLECTOR)
ADMIN = person("admin", Role.ADMIN, Role.STAFF)
SUPERVISOR = person("supervisor", Role.SUPERVISOR)


@dataclass
class Clock:
    """The office's clock, moved by the tests instead of sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 10, 0, tzinfo=ZONE))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Office:
    """One community's application on the in-memory store, with members registered."""

    app: Minqing
    clock: Clock
    owner: UUID  # a member concerns are assigned to
    voters: list[UUID]  # members with a vote; the first chairs meetings

    @property
    def owner_principal(self) -> Principal:
        """The owner's own sign-in: linked to the member, no staff role."""
        return person("owner", Role.MEMBER, member=self.owner)

    def voter(self, member: UUID) -> Principal:
        """A voting member's own sign-in."""
        return person(f"member-{member}", Role.MEMBER, member=member)

    def chair(self, meeting: UUID) -> Principal:
        """The chair of `meeting`, signed in as the member it names."""
        return person("chair", Role.CHAIR, member=self.app.get_meeting(meeting).chair)

    def raise_concern(self, **changes: object) -> UUID:
        """A concern raised by staff in grid 2, with the resident's personal data."""
        draft = NewConcern(
            title="5号楼东侧小路路灯两周不亮",
            description="东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
            category=Category.ENVIRONMENT,
            library=Library.PROBLEM,
            channel=Channel.VISIT,
            grid="2",
            building="5",
            resident=RESIDENT,
        )
        return UUID(self.app.raise_concern(STAFF, replace(draft, **changes)).id)  # type: ignore[arg-type]

    def due(self, days: int = 14) -> date:
        """A due date `days` from today."""
        return (self.clock.now + timedelta(days=days)).date()

    def meeting(self, *concerns: UUID) -> UUID:
        """A scheduled branch meeting of every voter, with `concerns` on its agenda."""
        result = self.app.schedule_meeting(
            COMMITTEE,
            "3月主题党日·民情会诊",
            MeetingKind.THEMATIC_PARTY_DAY,
            self.clock.now + timedelta(days=5),
            "社区党群服务中心",
            self.voters[0],
            self.voters,
        )
        meeting = UUID(result.id)
        for concern in concerns:
            self.app.shortlist(meeting, COMMITTEE, concern)
        return meeting

    def vote_on(self, concern: UUID, choice: Choice) -> UUID:
        """A meeting opened with every voter present, its vote on `concern` open and cast
        `choice` by all; the meeting's id."""
        meeting = self.meeting(concern)
        self.app.open_meeting(meeting, self.chair(meeting), self.voters)
        self.app.open_vote(meeting, self.chair(meeting), concern)
        for member in self.voters:
            self.app.cast_vote(meeting, self.voter(member), concern, choice)
        return meeting

    def status(self, concern: UUID) -> Status:
        """The concern's status now."""
        return Status(self.app.get_concern(concern).status)

    def events(self, aggregate: UUID) -> list[str]:
        """The aggregate's event types, in order."""
        return [type(e).__name__ for e in self.app.events.get(aggregate)]


def open_office(
    extension_cap: int = 2,
    suspension_max_days: int = 365,
    working_periods: tuple[Period, ...] = WORKING_PERIODS,
) -> Office:
    """A fresh in-memory application with an owner and three voting members (and the
    settings MINQING_EXTENSION_CAP, MINQING_SUSPENSION_MAX_DAYS, MINQING_WORKING_PERIODS)."""
    clock = Clock()
    app = Minqing(
        memory_env(),
        master_key=os.urandom(32),
        clock=clock,
        extension_cap=extension_cap,
        suspension_max_days=suspension_max_days,
        working_periods=working_periods,
    )
    owner = _member(app, "王芳", DutyRole.ENVIRONMENT_MONITOR)
    voters = [_member(app, f"党员{i}", DutyRole.MEDIATOR) for i in range(3)]
    return Office(app, clock, owner, voters)


def _member(app: Minqing, name: str, duty: DutyRole) -> UUID:
    result: CommandResult = app.register_member(ADMIN, name, ["2"], [duty], True)
    return UUID(result.id)
