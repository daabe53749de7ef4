"""What the API answers, as OpenAPI schemas: one model per response body, field for field.

These models only document: routes return their plain data as before (FastAPI neither
filters nor re-encodes it), and the Schemathesis run (tests/e2e/test_schemathesis.py)
checks that what they return matches. Parts that are open by nature (an event's `data`,
a JSON Schema, the ledger's figures) are objects without a fixed list of fields.

Here: the error body, the concerns, the members and their points; the meetings', the
registers', the calendar's, the public board's and the in-service members' answers are in
the responses_*.py beside it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

Object = dict[str, Any]


class Label(BaseModel):
    """A value's name in Chinese and English."""

    zh: str
    en: str


# -- errors ---------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One input that was refused, and why."""

    field: str = Field(description="the field's name (`resident.phone`), or `body`")
    message: str


class Error(BaseModel):
    """Every error: a code, a human message, and the details its code has."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": "not_found", "message": "no concern X"}]}
    )

    error: Literal[
        "unauthenticated",
        "forbidden",
        "not_found",
        "transition_not_allowed",
        "conflict",
        "version_mismatch",
        "invalid",
        "too_large",
        "rate_limited",
        "unavailable",
        "internal",
    ]
    message: str
    fields: list[FieldError] | None = Field(default=None, description="422: each bad input")
    rule: str | None = Field(default=None, description="conflict: the rule that refused it")
    present: int | None = Field(
        default=None, description="conflict no_quorum: entitled members present"
    )
    entitled: int | None = Field(default=None, description="conflict no_quorum: entitled")
    needed: int | None = Field(default=None, description="conflict no_quorum: present needed")
    status: str | None = Field(default=None, description="transition_not_allowed: the state")
    action: str | None = Field(default=None, description="transition_not_allowed: the action")
    allowed_actions: list[str] | None = Field(
        default=None, description="transition_not_allowed: what this state allows"
    )
    current_version: int | None = Field(
        default=None, description="version_mismatch: the aggregate's version now"
    )
    position: int | None = Field(
        default=None, description="unavailable (min_position): the read model's position"
    )


class Open311ErrorItem(BaseModel):
    """Open311's error: the HTTP status and a description."""

    code: int
    description: str


class Open311Errors(RootModel[list[Open311ErrorItem]]):
    """Open311's paths answer errors in the spec's format."""


# -- commands -------------------------------------------------------------------------------


class ErasureOut(BaseModel):
    """A resident's personal data crypto-erased."""

    id: str
    version: int
    position: int
    resident_ref: str
    erased: bool
    erased_at: str


# -- concerns -------------------------------------------------------------------------------


class DueDate(BaseModel):
    due_on: str
    set_at: str
    reason: str | None


class Progress(BaseModel):
    note: str
    at: str
    by: str
    round: int


class Feedback(BaseModel):
    solved: bool
    satisfaction: str
    at: str
    round: int
    comment: str | None = None


class Resident(BaseModel):
    """Shown only to those allowed, and each showing is logged."""

    name: str | None
    phone: str | None
    address: str | None
    email: str | None = None


class StageOut(BaseModel):
    """An open concern's stage on the work calendar (null once it is closed, on a branch
    meeting's agenda, or read as it was)."""

    name: str  # triage | committee | handling | feedback
    started_at: str
    deadline: str
    unit: str
    used_percent: int
    colour: str  # green | yellow | red
    suspended: bool


class LatLng(BaseModel):
    """A WGS-84 point, in degrees."""

    lat: float
    lng: float


class ConcernOut(BaseModel):
    """A concern now (or as it was), with what the caller may do next."""

    id: str
    reference: str
    version: int
    status: str
    status_label: Label
    title: str
    description: str
    category: str
    library: str
    channel: str
    grid: str
    building: str | None
    place: str | None = Field(None, description="the place of the register it names")
    location: LatLng | None = Field(
        None, description="the exact point (WGS-84); only staff see it, public outputs a cell"
    )
    priority_visit: str | None
    anonymous: bool
    resident_ref: str | None
    raised_at: str
    raised_by: str
    updated_at: str
    owner: str | None
    duty_role: str | None
    due_on: str | None
    due_history: list[DueDate]
    round: int
    progress: list[Progress]
    summary: str | None
    resolved_at: str | None
    feedback: list[Feedback]
    awaiting_feedback: bool
    reason: str | None
    missing: str | None
    merged_into: str | None
    meeting_id: str | None
    allowed_actions: list[str]
    resident: Resident | Object | None
    stage: StageOut | None = None
    # Supervision cards (督办), oldest first: number, grade, reason, stage, stage_started_at,
    # requirement, reply_by, automatic, owner, issued_by, issued_at, reply, replied_at.
    cards: list[Object] = []
    # The appeal of an overdue stage (stage, reason, approved, decision …), the stages
    # recorded overdue, and those an approved appeal exempts from the on-time figures.
    appeal: Object | None = None
    overdue_stages: list[str] = []
    exempt_stages: list[str] = []
    # Suspension (挂账): the owner's request waiting (reason, until, by, at), and the one
    # approved (reason, until, since, approved_by, ended, automatic …), at most one.
    suspension_request: Object | None = None
    suspension: Object | None = None
    # The void (作废): the proposal waiting for a supervisor (reason, by, at), and the
    # approved void (reason, by, at, from: the status it left).
    void_proposal: Object | None = None
    voided: Object | None = None
    residents_count: int = Field(1, description="whoever raised it and the co-signers")
    cosigners: list[Object] = Field(
        default_factory=list,
        description="residents who joined (resident_ref, anonymous, channel, from_concern, at)",
    )
    kind: str = Field(
        "resident", description="resident, or proactive: raised by the system from a hotspot"
    )
    hotspot: str | None = Field(None, description="a proactive concern's hotspot")
    linked: list[str] = Field(
        default_factory=list, description="a proactive concern's: the concerns behind it"
    )
    hotspots: list[Object] = Field(
        default_factory=list,
        description="the recorded hotspots this concern is behind (id, proactive_concern_id)",
    )


class HistoryEvent(BaseModel):
    """One event of an aggregate's history, as it was recorded."""

    version: int
    type: str
    at: str
    recorded_at: str
    actor: str | None
    role: str | None
    data: Object
    label: Label
    role_label: Label | None
    reason: str | None
    changes: Object
    # The X-Request-ID of the HTTP request that recorded it (null for the workers' events).
    request_id: str | None = None


class HistoryOut(BaseModel):
    id: str
    events: list[HistoryEvent]


class ConcernSummary(BaseModel):
    """A concern as lists and queues show it."""

    id: str
    reference: str
    title: str
    status: str
    status_label: Label
    category: str
    library: str
    channel: str
    grid: str
    owner: str | None
    duty_role: str | None
    due_on: str | None
    overdue: bool
    raised_at: str
    updated_at: str
    resolved_at: str | None
    round: int
    version: int
    position: int
    stage: StageOut | None = None
    suspended_until: str | None = Field(
        None, description="suspended (挂账) until this date: no handling until it resumes"
    )


class ConcernPage(BaseModel):
    """A page of concerns; `next_cursor` asks for the next, `position` is the read model's."""

    items: list[ConcernSummary]
    next_cursor: str | None
    position: int
    as_of: str | None = Field(default=None, description="with ?as_of: the moment read")


class TrackStep(BaseModel):
    type: str
    at: str
    status: str


class Milestone(BaseModel):
    """One milestone of a commitment (承诺节点)."""

    id: str
    title: str
    due_on: str
    done: bool
    done_on: str | None


class TrackOut(BaseModel):
    """What a resident sees of their concern: nothing personal."""

    reference: str
    title: str
    status: str
    status_label: Label
    category: str
    raised_on: str
    due_on: str | None
    resolved_on: str | None
    public_notes: list[str]
    awaiting_feedback: bool
    steps: list[TrackStep]
    # The concern as a commitment (承诺): in_progress, fulfilled, written_off, or null.
    commitment: str | None = None
    milestones: list[Milestone] = []
    progress: int | None = None


# -- members and points ---------------------------------------------------------------------


class MemberOut(BaseModel):
    id: str
    name: str
    grids: list[str]
    duty_roles: list[str]
    votes_in_branch: bool
    kind: str = "branch"
    organisation: str | None = None
    reported_on: str | None = None
    badge_number: str | None = None
    shown_in_public: bool = False
    registered_at: str
    version: int


class MemberList(BaseModel):
    items: list[MemberOut]


class PointLine(BaseModel):
    """One kind of work: how often, its weight, the points."""

    kind: str
    label: Label
    count: int
    weight: int
    points: int


class MemberPoints(BaseModel):
    member_id: str
    name: str
    total: int
    items: list[PointLine]


class PointsOut(MemberPoints):
    """A member's points (党员积分) over `from`..`to`."""

    from_: str | None = Field(alias="from")
    to: str | None
    position: int


class PointsList(BaseModel):
    """Every member's points, highest total first."""

    items: list[MemberPoints]
    from_: str | None = Field(alias="from")
    to: str | None
    position: int
