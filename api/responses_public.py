"""The public board's answers (/public/commitments, /public/board): nothing personal."""

from __future__ import annotations

from pydantic import BaseModel

from api.responses import Label, Milestone


class Commitment(BaseModel):
    """A commitment (承诺) as the community publishes it."""

    id: str
    reference: str
    title: str
    category: str
    category_label: Label
    grid: str
    status: str
    status_label: Label
    duty_role: str | None
    duty_role_label: Label | None
    # Only for a member who agreed to be shown (党员亮身份); null otherwise.
    member_name: str | None
    due_on: str | None
    committed_on: str | None
    fulfilled_on: str | None
    written_off_on: str | None
    round: int
    milestones: list[Milestone]
    progress: int | None


class CommitmentBoard(BaseModel):
    """Every commitment, latest first, with the count in each status."""

    items: list[Commitment]
    counts: dict[str, int]
    position: int


class BoardItem(BaseModel):
    """One decided agenda item: the outcome, the votes needed and, for an open ballot
    only, the counts (never who chose what)."""

    reference: str
    title: str
    outcome: str
    outcome_label: Label
    votes_needed: int
    entitled: int
    present: int
    tally: dict[str, int] | None


class BoardMeeting(BaseModel):
    title: str
    kind: str
    held_on: str
    ballot: str
    items: list[BoardItem]


class BoardFigure(BaseModel):
    name: str
    label: Label
    # A count; under 5 it is the text "< 5".
    value: int | str


class BoardLedger(BaseModel):
    month: str
    figures: list[BoardFigure]


class BoardPost(BaseModel):
    name: str
    grid: str
    duties: str
    seats: int
    claimed: int
    members_shown: list[str]


class CommitmentItems(BaseModel):
    items: list[Commitment]
    counts: dict[str, int]


class PublicBoard(BaseModel):
    """The community's public board (八公开)."""

    meetings: list[BoardMeeting]
    commitments: CommitmentItems
    ledger: BoardLedger
    posts: list[BoardPost]
    position: int
