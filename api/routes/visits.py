"""The visits register: /api/v1/visits (household visits, with or without a concern)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from api.deps import IdempotencyDep, MinqingDep, ProjectionsDep, caught_up, require
from api.openapi import answers, errors
from api.params import CursorParam, DateText, From, Grids, Limit, MinPosition, selection
from api.responses_registers import VisitOut, VisitPage
from api.schemas import CommandOut, VisitIn
from application import disclosure
from application.minqing import NewVisit
from domain.errors import NotFound
from domain.permissions import check_grid
from domain.principal import Principal
from domain.visit import Visit
from domain.vocabulary import STAFF_ROLES, PriorityVisit, Role
from projections.concerns import DEFAULT_LIMIT
from projections.ledger import Ledger, VisitQuery, list_visits

router = APIRouter(prefix="/api/v1/visits", tags=["visits"], responses=errors(401, 403, 503))


def visit_view(v: Visit, household: dict[str, Any]) -> dict[str, Any]:
    """A visit as staff read it (the household and notes stay inside the community);
    `household` is what disclosure.disclose_household gave this reader."""
    kind = PriorityVisit(v.priority_visit) if v.priority_visit else None
    return {
        "id": str(v.id),
        "grid": v.grid,
        **household,
        "visited_on": v.visited_on.isoformat(),
        "priority_visit": v.priority_visit,
        "priority_visit_label": {"zh": kind.zh, "en": kind.en} if kind else None,
        "notes": v.notes,
        "concern_ids": [str(c) for c in v.concern_ids],
        "recorded_by": v.recorded_by,
        "recorded_at": v.recorded_at.isoformat(),
        "version": v.version,
    }


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandOut,
    responses=errors(409),
)
def record_visit(
    body: VisitIn,
    app: MinqingDep,
    principal: Annotated[Principal, require(Role.COLLECTOR, Role.STAFF)],
    idem: IdempotencyDep,
) -> dict[str, Any]:
    """Record a household visit (grid, household, date, priority-visit kind, concerns raised)."""
    visit = NewVisit(
        grid=body.grid,
        household=body.household,
        visited_on=body.visited_on,
        priority_visit=body.priority_visit,
        notes=body.notes,
        concern_ids=body.concern_ids,
    )
    return app.record_visit(principal, visit, idem).body()


@router.get("", **answers(VisitPage))
def visits_register(
    app: MinqingDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*STAFF_ROLES)],
    grid: Grids = None,
    start: From = None,
    to: DateText = None,
    priority_visit: Annotated[PriorityVisit | None, Query()] = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
    min_position: MinPosition = None,
) -> dict[str, Any] | JSONResponse:
    """The visits register, the latest visit first: filters grid, date range, priority kind;
    only the caller's grids (open a visit for its household and notes)."""
    query = VisitQuery(selection(principal, start, to, grid), priority_visit)
    position = caught_up(runner, Ledger.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    page = list_visits(app.db, query, zone=app.zone, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor, "position": position}


@router.get("/{visit_id}", **answers(VisitOut, 404))
def get_visit(
    visit_id: str,
    app: MinqingDep,
    principal: Annotated[Principal, require(*STAFF_ROLES)],
) -> dict[str, Any]:
    """One recorded visit; only within the caller's grids. The household (a resident's
    address) is shown to collectors, grid leaders, staff and admins, and each such read is
    written to the access log first; other readers get `household_state: redacted`."""
    try:
        ident = UUID(visit_id)
    except ValueError:
        raise NotFound("visit", visit_id) from None
    visit = app.get_visit(ident)
    check_grid(principal, visit.grid)
    return visit_view(visit, disclosure.disclose_household(app, principal, visit))
