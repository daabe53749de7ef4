"""What the meetings' endpoints answer, as OpenAPI schemas: a meeting command, the list, a
meeting with its agenda and quorum, an item's roll and the minutes (see api/responses.py:
these only document what the routes return)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.responses import Label, Object
from api.schemas import CommandOut

# -- commands -------------------------------------------------------------------------------


class MeetingCommandOut(CommandOut):
    """A meeting command; a vote adds the item's tally, closing it the outcome."""

    concern_id: str | None = None
    by_chair: bool | None = None
    tally: Object | None = None
    outcome: str | None = None
    concern_status: str | None = None
    deferred: list[str] | None = None


# -- meetings -------------------------------------------------------------------------------


class MeetingSummary(BaseModel):
    id: str
    title: str
    kind: str
    status: str
    scheduled_for: str
    agenda: int = Field(description="the number of items on the agenda")


class MeetingList(BaseModel):
    items: list[MeetingSummary]


class Quorum(BaseModel):
    rule: str
    entitled: int
    present: int
    reached: bool
    needed: int | None = Field(default=None, description="minutes: how many must be present")


class Vote(BaseModel):
    voter: str
    choice: str
    by_chair: bool


class AgendaItem(BaseModel):
    concern_id: str
    reference: str
    title: str
    category: str
    status: str
    tally: Object | None = None
    outcome: str | None = None
    concern_status: str | None = None
    owner: str | None = None
    duty_role: str | None = None
    due_on: str | None = None
    quorum: Object | None = Field(default=None, description="as judged when the vote opened")
    votes_needed: int | None = Field(default=None, description="votes for needed to adopt")
    votes: list[Vote] | None = None


class MeetingOut(BaseModel):
    """A meeting: agenda, attendance, quorum, live tallies (counts only if secret)."""

    id: str
    version: int
    title: str
    kind: str
    kind_label: Label
    status: str
    scheduled_for: str
    place: str
    chair: str
    eligible_voters: list[str]
    rules: Object
    present: list[str]
    resident_representatives: list[str]
    quorum: Quorum
    agenda: list[AgendaItem]
    opened_at: str | None = None
    closed_at: str | None = None
    minutes: str | None = None


class Person(BaseModel):
    id: str
    name: str


class RollCounts(BaseModel):
    entitled: int
    present: int
    voted: int
    not_yet: int


class RollOut(BaseModel):
    """One item's roll: the entitled, the present, who voted and who not yet; no choices."""

    meeting_id: str
    concern_id: str
    status: str
    ballot: str
    entitled: list[Person]
    present: list[Person]
    voted: list[Person]
    not_yet: list[Person]
    counts: RollCounts
    quorum: Object
    votes_needed: int


class AttendanceChange(BaseModel):
    member: Person
    change: Literal["arrived", "left"]
    at: str


class Attendance(BaseModel):
    entitled: list[Person]
    present: list[Person]
    absent: list[Person]
    resident_representatives: list[str]
    quorum: Quorum
    changes: list[AttendanceChange] = Field(
        default_factory=list, description="late arrivals and departures, in order"
    )


class MinutesItem(BaseModel):
    reference: str
    title: str
    category: str
    tally: Object | None
    decision: str
    decision_label: Label
    owner: Person | None = None
    duty_role: str | None = None
    due_on: str | None = None
    quorum: Object | None = Field(default=None, description="as judged when the vote opened")
    votes_needed: int | None = Field(default=None, description="votes for needed to adopt")
    votes: list[Vote] | None = None


class MinutesOut(BaseModel):
    """The record of a meeting."""

    meeting: Object
    chair: Person | None
    rules: Object
    attendance: Attendance
    items: list[MinutesItem]
    article: int | None = Field(default=None, description="the article the quorum rule cites")
    inquorate: Object | None = Field(default=None, description="declared inquorate: the counts")
    minutes: str | None
    opened_at: str | None
    closed_at: str | None
