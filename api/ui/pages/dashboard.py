"""The dashboard 指标看板 for supervisors and the office (/ui/dashboard): the
indicators by month and by grid, a trend of each over the months, every cell opening the
concerns behind it (/ui/dashboard/open); and the public figures (/ui/public/figures), by
month only, with counts under 5 hidden."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.params import selection
from api.registers import clock
from api.ui.dashboard import INDICATORS, cell, trend_svg
from api.ui.forms import errors_of
from api.ui.render import lang_of, month_label, render
from api.ui.web import MaybeSessionDep, SessionDep, UiRoute, minqing, need
from application.settings import Settings
from domain.errors import Invalid
from domain.permissions import VIEW_ROLES
from domain.vocabulary import Category
from projections.ledger import Cell, Selection, open_figure, read_ledger
from projections.ledger_figures import BY_NAME

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
From = Annotated[str, Query(alias="from", max_length=10)]
To = Annotated[str, Query(max_length=10)]
Text = Annotated[str, Query(max_length=64)]


def _tables(
    request: Request, chosen: Selection, lang: str, *, public: bool, by_grid: bool
) -> dict[str, Any]:
    app = minqing(request)
    settings: Settings = request.app.state.settings
    now = clock(app, settings)
    months = read_ledger(app.db, chosen, ("month",), now)
    indicators = [BY_NAME[name].as_dict() for name in INDICATORS]

    def rows(table: dict[str, Any], key: str) -> list[dict[str, Any]]:
        return [
            {
                "key": r.get(key),
                "label": month_label(r.get(key), lang) if key == "month" else r.get(key),
                "cells": {n: cell(r["figures"].get(n), public) for n in INDICATORS},
            }
            for r in table["rows"]
            if r.get(key)
        ]

    by_month = rows(months, "month")
    trends = {
        f["name"]: trend_svg(
            [(r["label"], r["cells"][f["name"]]["percent"]) for r in by_month], f[lang]
        )
        for f in indicators
    }
    grids = rows(read_ledger(app.db, chosen, ("grid",), now), "grid") if by_grid else []
    return {
        "indicators": indicators,
        "by_month": by_month,
        "by_grid": grids,
        "trends": trends,
        "totals": {n: cell(months["totals"]["figures"].get(n), public) for n in INDICATORS},
        "period": {"from": months["from"], "to": months["to"]},
        "public": public,
    }


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep, start: From = "", to: To = "") -> Response:
    """All indicators by month and grid with their trends; every cell opens its concerns."""
    need(session, *VIEW_ROLES)
    lang = lang_of(request)
    query = {"from": start, "to": to}
    try:
        chosen = selection(session.principal, start or None, to or None, None)
        context = _tables(request, chosen, lang, public=False, by_grid=True)
    except Invalid as exc:
        problems = [message for _, message in errors_of(exc, lang).summary]
        refused = {"query": query, "problems": problems, "indicators": None, "public": False}
        return render(request, "dashboard.html", refused, session=session, status=422)
    context.update(query=query, problems=[])
    return render(request, "dashboard.html", context, session=session)


@router.get("/dashboard/open")
def open_cell(
    request: Request,
    session: SessionDep,
    figure: Text = "",
    month: Annotated[str, Query(max_length=7)] = "",
    grid: Text = "",
    start: From = "",
    to: To = "",
) -> Response:
    """The concerns one count of one cell holds (a rate's numerator or denominator)."""
    need(session, *VIEW_ROLES)
    app = minqing(request)
    settings: Settings = request.app.state.settings
    definition = BY_NAME.get(figure)
    if definition is None or definition.subject != "concerns" or definition.kind != "count":
        raise Invalid([("figure", "must be one of the indicators' counts")])
    # A grid outside the caller's scope is refused (403), as the API's drill-down does.
    chosen = selection(session.principal, start or None, to or None, [grid] if grid else None)
    opened = open_figure(
        app.db,
        figure,
        "concerns",
        chosen,
        Cell(month or None, grid or None, None),
        clock(app, settings),
    )
    lang = lang_of(request)
    context = {
        "figure": definition.as_dict(),
        "opened": opened,
        "month_text": month_label(month or None, lang) if month else "",
        "grid": grid,
        "categories": {c.value: c for c in Category},
    }
    return render(request, "dashboard_open.html", context, session=session)


@router.get("/public/figures")
def public_figures(request: Request, session: MaybeSessionDep) -> Response:
    """The indicators by month for everyone, with any count under 5 hidden."""
    chosen = Selection(None, None, [], frozenset())
    context = _tables(request, chosen, lang_of(request), public=True, by_grid=False)
    context.update(query={"from": "", "to": ""}, problems=[])
    return render(request, "dashboard.html", context, session=session)
