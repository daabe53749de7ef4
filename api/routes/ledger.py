"""The ledger (台账): /api/v1/ledger, its CSV and XLSX exports, and the drill-down from any
figure to the concerns or visits behind it. Read from the `ledger` projection; every
endpoint accepts `min_position` like the concern list."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from api import ledger_export
from api.deps import MinqingDep, ProjectionsDep, SettingsDep, caught_up, require
from api.openapi import answers, errors
from api.params import DateText, From, Grids, MinPosition, parse_day, selection
from api.registers import XLSX_TYPE, clock
from api.responses_registers import LedgerOpened, LedgerOut
from application.minqing import Minqing
from application.settings import Settings
from domain.permissions import VIEW_ROLES, check_grid
from domain.principal import Principal
from domain.vocabulary import Category
from projections.ledger import Cell, Ledger, open_figure, read_ledger
from projections.ledger_figures import Subject, parse_group_by
from projections.runner import ProjectionRunner

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"], responses=errors(401, 403, 503))


class LedgerFormat(StrEnum):
    """How the ledger is sent: JSON, or a spreadsheet with Chinese and English headers."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


Out = dict[str, Any] | Response


def _filename(ledger: dict[str, Any], extension: str) -> str:
    span = f"{ledger['from'] or 'start'}_{ledger['to'] or ledger['as_of'][:10]}"
    return f"minqing-ledger-{span}.{extension}"


@router.get(
    "",
    **answers(
        LedgerOut,
        content={
            "text/csv": {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    ),
)
def get_ledger(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*VIEW_ROLES)],
    start: From = None,
    to: DateText = None,
    group_by: Annotated[
        str | None, Query(max_length=100, description="any of month,grid,category")
    ] = None,
    grid: Grids = None,
    format: LedgerFormat = LedgerFormat.JSON,
    min_position: MinPosition = None,
) -> Out:
    """The ledger's figures per month, grid and category, with totals; JSON, CSV or XLSX."""
    keys = parse_group_by(group_by)
    chosen = selection(principal, start, to, grid)
    position = caught_up(runner, Ledger.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    ledger = read_ledger(app.db, chosen, keys, clock(app, settings))
    if format is LedgerFormat.CSV:
        return Response(
            ledger_export.to_csv(ledger),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_filename(ledger, "csv")}"'},
        )
    if format is LedgerFormat.XLSX:
        return Response(
            ledger_export.to_xlsx(ledger),
            media_type=XLSX_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{_filename(ledger, "xlsx")}"'},
        )
    return {**ledger, "position": position}


def _open(
    app: Minqing,
    settings: Settings,
    runner: ProjectionRunner,
    principal: Principal,
    figure: str,
    subject: Subject,
    cell: Cell,
    span: tuple[str | None, str | None],
    min_position: int | None,
) -> Out:
    if cell.grid is not None:
        check_grid(principal, cell.grid)
    if cell.month is not None:
        parse_day(cell.month, "month", last=False)
    chosen = selection(principal, span[0], span[1], None)
    position = caught_up(runner, Ledger.name, min_position)
    if isinstance(position, JSONResponse):
        return position
    opened = open_figure(app.db, figure, subject, chosen, cell, clock(app, settings))
    return {**opened, "position": position}


Figure = Annotated[str, Query(max_length=100, description="a figure's name, as in `figures`")]
Month = Annotated[str | None, Query(max_length=7, description="the cell's month, YYYY-MM")]
CellGrid = Annotated[str | None, Query(max_length=64, description="the cell's grid")]


@router.get("/concerns", **answers(LedgerOpened))
def ledger_concerns(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*VIEW_ROLES)],
    figure: Figure,
    month: Month = None,
    grid: CellGrid = None,
    category: Category | None = None,
    start: From = None,
    to: DateText = None,
    min_position: MinPosition = None,
) -> Out:
    """The concerns one figure of one cell counts (a rate opens through its parts)."""
    cell = Cell(month, grid, category.value if category else None)
    span = (start, to)
    return _open(app, settings, runner, principal, figure, "concerns", cell, span, min_position)


@router.get("/visits", **answers(LedgerOpened))
def ledger_visits(
    app: MinqingDep,
    settings: SettingsDep,
    runner: ProjectionsDep,
    principal: Annotated[Principal, require(*VIEW_ROLES)],
    figure: Figure,
    month: Month = None,
    grid: CellGrid = None,
    start: From = None,
    to: DateText = None,
    min_position: MinPosition = None,
) -> Out:
    """The visits one visit figure of one cell counts."""
    cell = Cell(month, grid, None)
    span = (start, to)
    return _open(app, settings, runner, principal, figure, "visits", cell, span, min_position)
