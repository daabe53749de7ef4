"""What the community publishes without a token (八公开): the commitments board
(/public/commitments: 承诺一件、兑现一件、注销一件) and the public board (/public/board)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api import public_board
from api.deps import MinqingDep, Out, ProjectionsDep, RateLimitDep, SettingsDep, caught_up
from api.openapi import answers, errors
from api.params import MinPosition
from api.responses_public import CommitmentBoard, PublicBoard
from application.minqing import Minqing
from projections import commitments
from projections.commitments import CommitmentQuery, Commitments, Stage

router = APIRouter(
    prefix="/public", tags=["public"], dependencies=[RateLimitDep], responses=errors(429, 503)
)
Stages = Annotated[list[Stage] | None, Query(alias="status", description="only these statuses")]
Grids = Annotated[list[str] | None, Query(description="only these grids")]


def board(app: Minqing, query: CommitmentQuery) -> dict[str, Any]:
    """The commitments and the count in each status."""
    return commitments.board(app.db, query, app.members_shown_in_public())


@router.get("/commitments", **answers(CommitmentBoard))
def public_commitments(
    app: MinqingDep,
    runner: ProjectionsDep,
    status: Stages = None,
    grid: Grids = None,
    min_position: MinPosition = None,
) -> Out:
    """Every commitment the community made (adopted or assigned), in progress, fulfilled or
    written off, with its milestones and progress: no token, nothing personal."""
    position = caught_up(runner, Commitments.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    query = CommitmentQuery(stages=tuple(s.value for s in status or []), grids=tuple(grid or []))
    return {**board(app, query), "position": position}


Month = Annotated[str | None, Query(max_length=7, description="the ledger's month, YYYY-MM")]


@router.get("/board", **answers(PublicBoard, 422))
def board_of_the_community(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    month: Month = None,
    min_position: MinPosition = None,
) -> Out:
    """The community's public board (八公开), fit to print: the last meetings' decisions
    (tallies of open ballots, votes needed, never who chose what), the commitments, the
    month's ledger figures (counts under 5 as "< 5") and the posts with the members who
    agreed to be shown."""
    position = caught_up(runner, Commitments.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    return {**public_board.board(app, month, settings.response_window_days), "position": position}
