"""The time limits table: /api/v1/time-limits (the limit of each stage, by category,
library and handling mode, and the colours' thresholds)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import IdempotencyDep, MinqingDep, require
from api.openapi import answers, errors
from api.responses_calendar import TimeLimitsOut
from api.schemas import TimeLimitsIn
from application.minqing import Minqing
from domain.principal import Principal
from domain.vocabulary import STAFF_ROLES, Role

router = APIRouter(
    prefix="/api/v1/time-limits", tags=["time limits"], responses=errors(401, 403, 503)
)


def _table(app: Minqing, position: int | None = None) -> dict[str, Any]:
    table = app.time_limit_table()
    return {
        "limits": table.rows,
        "thresholds": {"yellow": table.yellow, "red": table.red},
        # The table is stored only once changed (Started, then Set): the defaults are 0.
        "version": table.version if table.version > 1 else 0,
        "position": position,
    }


@router.get("", **answers(TimeLimitsOut))
def get_time_limits(
    app: MinqingDep,
    principal: Annotated[Principal, require(*STAFF_ROLES, Role.SUPERVISOR)],
) -> dict[str, Any]:
    """The time limits table in force (the defaults until an admin changes it)."""
    return _table(app)


@router.put("", **answers(TimeLimitsOut, 422))
def put_time_limits(
    body: TimeLimitsIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.ADMIN)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Replace the time limits table (admin): every stage needs a row for any concern."""
    rows = [r.model_dump(mode="json") for r in body.limits]
    result = app.set_time_limits(principal, rows, body.thresholds.yellow, body.thresholds.red, idem)
    return _table(app, result.position)
