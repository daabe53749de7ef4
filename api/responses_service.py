"""The answers of the in-service members' endpoints: posts and evaluations."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PostOut(BaseModel):
    """A post (岗位) with its seats and the members who claimed them."""

    id: str
    name: str
    grid: str
    duties: str
    seats: int
    claimed: int
    members: list[str]
    version: int


class PostList(BaseModel):
    items: list[PostOut]


class Evaluation(BaseModel):
    """One member's evaluation for the period."""

    member_id: str
    name: str
    kind: str
    organisation: str | None
    grids: list[str]
    hours: float
    posts: list[str]
    resolved_on_time: int
    points: int
    # The community's latest rating for the period: excellent, good, fair, poor; or null.
    feedback: str | None
    feedback_comment: str | None


class EvaluationList(BaseModel):
    period: str
    from_: str = Field(alias="from")
    to: str
    items: list[Evaluation]
    position: int
