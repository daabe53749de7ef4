"""What the registers, the integrators' and the operators' endpoints answer, as OpenAPI
schemas, and Open311's (see api/responses.py: these only document what the routes return)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, RootModel

from api.responses import Label, Object

# -- visits, libraries, ledger --------------------------------------------------------------


class VisitOut(BaseModel):
    """A recorded household visit (the household and notes stay inside the community)."""

    id: str
    grid: str
    household: str
    visited_on: str
    priority_visit: str | None
    priority_visit_label: Label | None
    notes: str | None
    concern_ids: list[str]
    recorded_by: str
    recorded_at: str
    version: int


class VisitSummary(BaseModel):
    id: str
    grid: str
    visited_on: str
    priority_visit: str | None
    priority_visit_label: Label | None
    household_key: str
    concern_count: int
    recorded_by: str
    recorded_at: str
    position: int


class VisitPage(BaseModel):
    items: list[VisitSummary]
    next_cursor: str | None
    position: int


class Cell(BaseModel):
    """A cell of the office's chosen size: its centre, never the point inside."""

    id: str
    lat: float
    lng: float
    size_m: int


class Achievement(BaseModel):
    """A resolved concern or an adopted suggestion: what was done, by which duty role."""

    id: str
    reference: str
    title: str
    stage: str
    stage_label: Label
    library: str
    library_label: Label
    category: str
    category_label: Label
    grid: str
    round: int
    summary: str | None
    duty_role: str | None
    duty_role_label: Label | None
    raised_on: str
    adopted_on: str | None
    due_on: str | None
    resolved_on: str | None
    resolved_at: str | None
    days_taken: int | None
    on_time: bool | None
    solved: bool | None
    satisfaction: str | None
    satisfaction_label: Label | None
    cell: Cell | None = Field(
        None, description="where, only as the cell the point lies in (never the point)"
    )


class AchievementPage(BaseModel):
    items: list[Achievement]
    next_cursor: str | None
    position: int


class LedgerOut(BaseModel):
    """The ledger's figures (described in `figures`) per row of the grouping, and totals."""

    from_: str | None = Field(alias="from")
    to: str | None
    group_by: list[str]
    as_of: str
    response_window_days: float
    figures: list[Object]
    rows: list[Object]
    totals: Object
    position: int


class LedgerOpened(BaseModel):
    """The concerns or visits behind one figure of one cell."""

    figure: Object
    cell: Object
    from_: str | None = Field(alias="from")
    to: str | None
    count: int
    items: list[Object]
    position: int


# -- integrators ----------------------------------------------------------------------------


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event; `sequence` is its log position."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: str
    sequence: str
    datacontenttype: str
    dataschema: str
    data: Object


class FeedOut(BaseModel):
    """A page of the pull feed."""

    events: list[CloudEvent]
    next_after: int


class EventSchemas(BaseModel):
    """The JSON Schema of `data` of every published event type and version."""

    specversion: str
    types: list[str]
    schemas: Object
    withheld: dict[str, Object]


class WebhookOut(BaseModel):
    """A webhook subscription (its secret only in the answer to create and rotate)."""

    id: str
    url: str
    event_types: list[str]
    description: str
    status: str
    disabled_reason: str | None
    start_after: int
    created_at: str
    created_by: str
    updated_at: str
    previous_secret_expires_at: str | None
    secret: str | None = Field(default=None, description="shown once: on create and rotate")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class Deliveries(BaseModel):
    """The delivery log of a subscription, oldest first."""

    items: list[Object]
    counts: dict[str, int]
    next_after: int | None


class Replayed(BaseModel):
    queued: int


# -- audit ----------------------------------------------------------------------------------


class ChainHead(BaseModel):
    position: int
    link: str


class Checkpoint(BaseModel):
    """A signed head of the hash chain."""

    position: int
    link: str
    signed_at: str
    signature: str
    public_key: str


class Verification(BaseModel):
    """The chain recomputed from the stored events; the first place it differs, if any."""

    ok: bool
    checked: int
    checkpoints_checked: int
    head: ChainHead | None
    first_problem: Object | None


class CheckpointList(BaseModel):
    public_key: str | None
    public_key_sha256: str | None
    head: ChainHead
    items: list[Checkpoint]


class CheckpointExport(BaseModel):
    """`?format=export`: the checkpoints as a file to keep elsewhere."""

    format: str
    chain_layout: Any
    exported_at: str
    public_key: str | None
    public_key_sha256: str | None
    checkpoints: list[Checkpoint]


class AccessLogPage(BaseModel):
    """Who read residents' personal data, when and why, newest first."""

    items: list[Object]
    next_cursor: str | None


class RequestEvent(BaseModel):
    """One event a request recorded."""

    aggregate_id: str
    version: int
    position: int | None
    type: str


class RequestEvents(BaseModel):
    """The events an HTTP request (its X-Request-ID) recorded, in log order."""

    request_id: str
    events: list[RequestEvent]


# -- operations -----------------------------------------------------------------------------


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    """The database answers: the log's head, each projection's lag, the webhook backlog."""

    status: str
    database: str
    position: int
    projections: dict[str, Object]
    webhooks: Object
    # Where the work calendar of this year and the next comes from (chinese-calendar or
    # weekdays), and a note for each year counted on weekdays alone: not a failure.
    calendar: dict[str, str]
    notes: list[str]


class NotReady(BaseModel):
    """Not ready, in the contract's error shape: `unavailable` (the database did not answer:
    the kind of error it gave) or `degraded` (a read model parked events: the ready fields
    and the parked positions by read model)."""

    error: str
    message: str
    status: str
    database: str
    position: int | None = None
    projections: dict[str, Object] | None = None
    webhooks: Object | None = None
    parked: dict[str, list[int]] | None = None


# -- Open311 --------------------------------------------------------------------------------


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311ServiceList(RootModel[list[Open311Service]]):
    """The six categories as Open311 services."""


class Open311Request(BaseModel):
    """A concern as an Open311 service request (no personal data); `minqing_status` adds
    Minqing's own status to the spec's open/closed."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None
    minqing_status: str


class Open311RequestList(RootModel[list[Open311Request]]):
    """Service requests, newest first."""


class Open311Token(BaseModel):
    service_request_id: str
    token: str | None = None
    service_notice: str | None = None
    account_id: str | None = None


class Open311TokenList(RootModel[list[Open311Token]]):
    """The request a token belongs to; after POST, the new request's id and token."""


class Open311Update(BaseModel):
    update_id: Any
    service_request_id: str
    status: str
    updated_datetime: str | None
    description: str
    media_url: str | None
    minqing_status: str


class Open311UpdateList(RootModel[list[Open311Update]]):
    """Status changes of service requests, oldest first."""


class Checkpoints(RootModel[CheckpointList | CheckpointExport]):
    """The signed chain heads; with `?format=export`, the file to keep."""


class Workflow(BaseModel):
    """The concern lifecycle as data (drawn from the transition table) and the vocabularies."""

    initial: str
    states: list[Any]
    terminal: list[Any]
    actions: list[Any]
    raise_roles: list[Any]
    transitions: list[Object]
    vocabularies: dict[str, Any]


class JsonDocument(RootModel[Object]):
    """A document in a standard of its own (JSON Schema, AsyncAPI): an object."""


class ScorecardsOut(BaseModel):
    """Scorecards per subject for the period: every figure with the concerns behind it, the
    composite score and grade, and the rules that made them."""

    subject: str
    from_: str | None = Field(alias="from")
    to: str | None
    as_of: str
    rules: Object
    voided: list[str]
    scorecards: list[Object]
    position: int
