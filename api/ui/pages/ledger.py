"""The ledger (台账) page: tallies by month, grid and category with bar charts, and the CSV
and XLSX downloads, at /ui/ledger; read from the ledger read model as /api/v1/ledger is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import ledger_export
from api.params import selection
from api.registers import XLSX_TYPE, clock
from api.ui.data import READ_YOUR_WRITES_SECONDS
from api.ui.forms import errors_of
from api.ui.render import label, lang_of, month_label, render
from api.ui.sessions import UiSession
from api.ui.web import SessionDep, UiRoute, minqing, need
from application.settings import Settings
from domain.errors import Invalid
from domain.permissions import VIEW_ROLES
from projections.ledger import Ledger, read_ledger
from projections.ledger_figures import parse_group_by
from projections.runner import ProjectionRunner

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
# The figures the page shows in its table (all are in the downloads).
TABLE = (
    "visits",
    "households_visited",
    "concerns_collected",
    "discussed",
    "resolved",
    "resolved_on_time",
    "on_time_closure_rate",
    "satisfaction_rate",
    "median_days_to_resolve",
)
From = Annotated[str, Query(alias="from", max_length=10)]
To = Annotated[str, Query(max_length=10)]
GroupBy = Annotated[str, Query(max_length=40)]


def _ledger(
    request: Request, session: UiSession, start: str, end: str, group_by: str | None
) -> tuple[dict[str, Any], Any]:
    app = minqing(request)
    settings: Settings = request.app.state.settings
    keys = parse_group_by(group_by)
    chosen = selection(session.principal, start or None, end or None, None)
    return read_ledger(app.db, chosen, keys, clock(app, settings)), chosen


def _bars(
    rows: list[dict[str, Any]], value: Any, text: Any, top: float | None = None
) -> list[dict[str, Any]]:
    """Bars for a chart: a rate against 100, a count against the largest count."""
    values = [value(r) for r in rows]
    top = top or max([v for v in values if v is not None] or [0]) or 1
    return [
        {"label": text(r), "value": v, "width": 0 if v is None else round(100 * v / top, 1)}
        for r, v in zip(rows, values, strict=True)
    ]


def _percent(rate: dict[str, Any] | None) -> float | None:
    return None if not rate else rate.get("percent")


@router.get("/ledger")
def ledger(
    request: Request,
    session: SessionDep,
    start: From = "",
    to: To = "",
    group_by: GroupBy = "month",
    at: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The tallies with charts: concerns by category, on-time rate and satisfaction by month."""
    need(session, *VIEW_ROLES)
    if at is not None:  # a position just written: let the read model reach it first
        runner: ProjectionRunner = request.app.state.projections
        runner.wait_for(Ledger.name, at, READ_YOUR_WRITES_SECONDS)
    lang = lang_of(request)
    query = {"from": start, "to": to, "group_by": group_by}
    try:
        table, chosen = _ledger(request, session, start, to, group_by)
    except Invalid as exc:
        problems = [message for _, message in errors_of(exc, lang).summary]
        refused: dict[str, Any] = {"query": query, "problems": problems, "table": None}
        return render(request, "ledger.html", refused, session=session, status=422)
    app = minqing(request)
    settings: Settings = request.app.state.settings
    now = clock(app, settings)
    # The charts' tallies, read once each; the table's own when it is grouped the same way.
    keys = tuple(table["group_by"])
    by_category = (
        table["rows"]
        if keys == ("category",)
        else read_ledger(app.db, chosen, ("category",), now)["rows"]
    )
    by_month = (
        table["rows"]
        if keys == ("month",)
        else read_ledger(app.db, chosen, ("month",), now)["rows"]
    )
    categories = [r for r in by_category if r.get("category")]
    definitions = {f["name"]: f for f in table["figures"]}

    def key_text(row: dict[str, Any]) -> list[str]:
        shown = []
        for key in table["group_by"]:
            if key == "month":
                shown.append(month_label(row.get("month"), lang))
            elif key == "category":
                shown.append(row["category_label"][lang])
            else:
                shown.append(str(row.get(key) or "—"))
        return shown

    context: dict[str, Any] = {
        "query": query,
        "problems": [],
        "table": table,
        "columns": [definitions[name] for name in TABLE],
        "key_text": key_text,
        "totals": table["totals"]["figures"],
        "charts": {
            "category": _bars(
                categories,
                lambda r: r["figures"]["concerns_collected"],
                lambda r: label(lang, "category", r["category"]),
            ),
            "on_time": _bars(
                by_month,
                lambda r: _percent(r["figures"]["on_time_closure_rate"]),
                lambda r: month_label(r["month"], lang),
                100,
            ),
            "satisfaction": _bars(
                by_month,
                lambda r: _percent(r["figures"]["satisfaction_rate"]),
                lambda r: month_label(r["month"], lang),
                100,
            ),
        },
        "download": "&".join(f"{k}={v}" for k, v in query.items() if v),
        "printed_at": app.clock(),
    }
    return render(request, "ledger.html", context, session=session)


def _download(
    request: Request, session: UiSession, start: str, end: str, group_by: str, kind: str
) -> Response:
    need(session, *VIEW_ROLES)
    table, _ = _ledger(request, session, start, end, group_by)
    span = f"{table['from'] or 'start'}_{table['to'] or table['as_of'][:10]}"
    name = f"minqing-ledger-{span}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        return Response(
            ledger_export.to_csv(table), media_type="text/csv; charset=utf-8", headers=headers
        )
    return Response(ledger_export.to_xlsx(table), media_type=XLSX_TYPE, headers=headers)


@router.get("/ledger.csv")
def ledger_csv(
    request: Request,
    session: SessionDep,
    start: From = "",
    to: To = "",
    group_by: GroupBy = "month",
) -> Response:
    """The ledger as CSV (Chinese and English headers), as /api/v1/ledger?format=csv."""
    return _download(request, session, start, to, group_by, "csv")


@router.get("/ledger.xlsx")
def ledger_xlsx(
    request: Request,
    session: SessionDep,
    start: From = "",
    to: To = "",
    group_by: GroupBy = "month",
) -> Response:
    """The ledger as an Excel workbook, as /api/v1/ledger?format=xlsx."""
    return _download(request, session, start, to, group_by, "xlsx")
