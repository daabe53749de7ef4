"""Scorecards (考核记分卡): /api/v1/scorecards per owner, grid or collector for a period,
as JSON (every figure with the concerns behind it), CSV or XLSX. Read from the
`scorecards` projection; accepts `min_position` like the concern list."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api import scorecard_export
from api.deps import MinqingDep, ProjectionsDep, SettingsDep, caught_up, require
from api.openapi import answers, errors
from api.params import DateText, From, MinPosition
from api.registers import XLSX_TYPE, scorecards_of
from api.responses_registers import ScorecardsOut
from domain.permissions import VIEW_ROLES
from domain.principal import Principal
from projections.scorecard_figures import Subject
from projections.scorecards import Scorecards

router = APIRouter(
    prefix="/api/v1/scorecards", tags=["scorecards"], responses=errors(401, 403, 503)
)


class ScorecardFormat(StrEnum):
    """How the scorecards are sent: JSON, or a spreadsheet with Chinese and English headers."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


@router.get(
    "",
    **answers(
        ScorecardsOut,
        content={
            "text/csv": {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    ),
)
def get_scorecards(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*VIEW_ROLES)],
    subject: Subject = Subject.OWNER,
    start: From = None,
    to: DateText = None,
    format: ScorecardFormat = ScorecardFormat.JSON,
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """Scorecards per owner, grid or collector for the concerns raised in the period."""
    position = caught_up(runner, Scorecards.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    found = scorecards_of(app, settings, principal, subject, (start, to))
    if format is ScorecardFormat.JSON:
        return {**found, "position": position}
    extension = format.value
    content = (
        scorecard_export.to_csv(found)
        if format is ScorecardFormat.CSV
        else scorecard_export.to_xlsx(found)
    )
    return Response(
        content,
        media_type="text/csv; charset=utf-8" if format is ScorecardFormat.CSV else XLSX_TYPE,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{scorecard_export.filename(found, extension)}"'
            )
        },
    )
