"""Request and response bodies, with the contract's limits; unknown fields are refused.

Every string field is one of the text types below, so it passes the text policy
(domain/text.py: control characters refused, line breaks only in multi-line fields,
bidirectional controls refused in single-line fields, NFC) before its length is counted,
and every date is one of api/dates.py's windows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints
from pydantic_core import PydanticCustomError

from api.dates import Day, Moment, VisitDay
from domain import text
from domain.meeting import MeetingKind
from domain.service import MemberKind
from domain.vocabulary import Category, Channel, DutyRole, Library, PriorityVisit, Satisfaction
from domain.voting import Choice


def _policy(check: Callable[[str], str]) -> BeforeValidator:
    """The text policy as a validator that runs before the string's own constraints, so
    lengths count the normalised text."""

    def validate(value: object) -> object:
        if not isinstance(value, str):
            return value  # the str schema refuses it with its own message
        try:
            return check(value)
        except text.TextRefused as refused:
            raise PydanticCustomError("text_policy", str(refused)) from None

    return BeforeValidator(validate)


SINGLE_LINE = _policy(text.check_single_line)
MULTI_LINE = _policy(text.check_multi_line)


# Single-line text (names, titles, grids …); the policy runs before the constraints.
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE
]
Short = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), SINGLE_LINE
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SINGLE_LINE
]
OptionalName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), SINGLE_LINE]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), SINGLE_LINE]
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), SINGLE_LINE]
Building = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), SINGLE_LINE]
Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SINGLE_LINE]
Rule = Annotated[str, StringConstraints(max_length=40), SINGLE_LINE]
Ballot = Annotated[str, StringConstraints(max_length=10), SINGLE_LINE]
# Multi-line text (descriptions, notes, reasons, summaries, comments, minutes).
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), MULTI_LINE
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), MULTI_LINE
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), MULTI_LINE]
Minutes = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000), MULTI_LINE
]


class Body(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ResidentIn(Body):
    name: OptionalName | None = None
    phone: Phone | None = None
    address: Address | None = None


class LocationIn(Body):
    """A point: WGS-84, or GCJ-02 as Chinese phone maps give it (converted on the way in)."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False)
    datum: Literal["wgs84", "gcj02"] = "wgs84"


class ConcernIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "东侧小路路灯坏了两周",
                    "description": "5号楼东侧小路的路灯已经两周不亮，老人晚上出行不便。",
                    "category": "environment",
                    "library": "problem",
                    "channel": "visit",
                    "grid": "2",
                    "building": "5",
                    "resident": {"name": "张秀英", "phone": "13800000000"},
                }
            ]
        },
    )

    title: Title
    description: Description
    category: Category
    library: Library
    channel: Channel
    grid: Short
    building: Building | None = None
    address: Address | None = None
    resident: ResidentIn | None = None
    anonymous: StrictBool = False
    priority_visit: PriorityVisit | None = None
    place: UUID | None = Field(None, description="a place of the grid's register")
    location: LocationIn | None = Field(
        None, description="the point, with the collector's consent; inside the grid"
    )


class CosignerIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"resident": {"name": "李秀兰", "phone": "13900000000"}, "channel": "visit"}
            ]
        },
    )

    resident: ResidentIn | None = None
    anonymous: StrictBool = False
    channel: Channel


class NoteIn(Body):
    note: Note | None = None


class AssignmentIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "owner": "3f2b9c1e-0000-4000-8000-000000000001",
                    "duty_role": "project_coordinator",
                    "due_on": "2026-04-10",
                }
            ]
        },
    )

    owner: UUID
    duty_role: DutyRole
    due_on: Day
    note: Note | None = None


class ReasonIn(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "不属于社区职责范围"}]}
    )

    reason: Text


class CalendarDayIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "holiday", "name": "国庆节"}]},
    )

    kind: Literal["holiday", "workday"]
    name: OptionalName | None = None


class LimitIn(Body):
    stage: Literal["triage", "committee", "handling", "feedback"]
    amount: float = Field(gt=0, le=1000)
    unit: Literal["natural_days", "working_days", "working_hours", "urgent_hours"]
    category: Category | None = None
    library: Library | None = None
    mode: Literal["handle_now", "committee", "meeting"] | None = None


class ThresholdsIn(Body):
    yellow: int = Field(default=80, gt=0, lt=1000)
    red: int = Field(default=100, gt=0, le=1000)


class TimeLimitsIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "limits": [
                        {"stage": "triage", "amount": 1, "unit": "working_days"},
                        {"stage": "committee", "amount": 5, "unit": "working_days"},
                        {"stage": "handling", "amount": 10, "unit": "working_days"},
                        {"stage": "feedback", "amount": 5, "unit": "working_days"},
                    ],
                    "thresholds": {"yellow": 80, "red": 100},
                }
            ]
        },
    )

    limits: list[LimitIn] = Field(min_length=1, max_length=500)
    thresholds: ThresholdsIn = ThresholdsIn()


class MergeIn(Body):
    into: UUID
    note: Note | None = None


class MissingIn(Body):
    missing: Text


class ProgressIn(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "已联系供电所，灯具已订购"}]}
    )

    note: Text


class ExtendIn(Body):
    # Omitted: one more original limit (the round's assignment's) after the current date.
    due_on: Day | None = None
    reason: Text


class SuperviseIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"grade": "yellow", "requirement": "三日内答复进展", "reply_by": "2026-03-20"}
            ]
        },
    )

    grade: Literal["yellow", "red"]
    requirement: Text
    reply_by: Day


class AppealIn(Body):
    stage: Literal["triage", "committee", "handling", "feedback"]
    reason: Text


class DecideAppealIn(Body):
    approved: StrictBool
    reason: Text


class SuspendIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "等待供电公司改线", "until": "2026-06-30"}]},
    )

    reason: Text
    until: Day


class ReplyIn(Body):
    reply: Text


class ReassignIn(Body):
    owner: UUID
    duty_role: DutyRole
    reason: Text


class MilestoneIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "采购新灯具", "due_on": "2026-04-01"}]},
    )

    title: Title
    due_on: Day


class ResolveIn(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"summary": "更换了6盏路灯"}]}
    )

    summary: Text


class FeedbackIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"solved": True, "satisfaction": "satisfied"}]},
    )

    solved: StrictBool
    satisfaction: Satisfaction
    comment: Note | None = None


class MemberIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "李强",
                    "grids": ["2"],
                    "duty_roles": ["project_coordinator"],
                    "votes_in_branch": True,
                }
            ]
        },
    )

    name: Name
    grids: list[Short] = Field(default_factory=list, max_length=50)
    duty_roles: list[DutyRole] = Field(default_factory=list, max_length=6)
    votes_in_branch: StrictBool
    # branch (the default), in_service (报到: organisation, reported_on) or volunteer
    # (badge_number); only branch members vote in the branch.
    kind: MemberKind = MemberKind.BRANCH
    organisation: Place | None = None
    reported_on: Day | None = None
    badge_number: Short | None = None


class CommandOut(BaseModel):
    """A successful command: the aggregate's new version and the log position of its event."""

    id: str
    version: int
    position: int
    status: str | None = None
    reference: str | None = None
    tracking_code: str | None = None


class Page(BaseModel):
    """A list of items."""

    items: list[dict[str, Any]]


class RulesIn(Body):
    quorum: Rule | None = None
    threshold: Rule | None = None
    ballot: Ballot | None = None


class MeetingIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "3月主题党日·民情会诊",
                    "kind": "thematic_party_day",
                    "scheduled_for": "2026-03-25T14:30:00+08:00",
                    "place": "社区党群服务中心",
                    "chair": "3f2b9c1e-0000-4000-8000-000000000002",
                    "eligible_voters": ["3f2b9c1e-0000-4000-8000-000000000001"],
                    "rules": {"quorum": "half", "threshold": "majority_of_entitled"},
                }
            ]
        },
    )

    title: Title
    kind: MeetingKind
    scheduled_for: Moment
    place: Place = ""
    chair: UUID
    # Optional: a member who may run the meeting in the chair's stead.
    deputy_chair: UUID | None = None
    eligible_voters: list[UUID] = Field(min_length=1, max_length=500)
    rules: RulesIn | None = None


class AgendaIn(Body):
    concern_id: UUID


class OpenMeetingIn(Body):
    present: list[UUID] = Field(max_length=500)
    resident_representatives: list[Short] = Field(default_factory=list, max_length=100)


class AttendanceIn(Body):
    """Members who came in or left after the meeting opened."""

    arrived: list[UUID] = Field(default_factory=list, max_length=500)
    left: list[UUID] = Field(default_factory=list, max_length=500)


class VoteIn(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"choice": "for"}]})

    choice: Choice
    voter: UUID | None = None


class CloseMeetingIn(Body):
    minutes: Minutes


class VisitIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "grid": "2",
                    "household": "5号楼2单元301",
                    "visited_on": "2026-03-03",
                    "priority_visit": "elderly_sick",
                    "notes": "独居老人，身体尚可；反映东侧小路路灯不亮。",
                    "concern_ids": [],
                }
            ]
        },
    )

    grid: Short
    household: Name
    visited_on: VisitDay
    priority_visit: PriorityVisit | None = None
    notes: Note | None = None
    concern_ids: list[UUID] = Field(default_factory=list, max_length=50)
