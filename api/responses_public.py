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
