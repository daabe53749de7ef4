"""The hotspot map (热点地图) at /ui/hotspots: the grids' boundaries and the hotspots drawn
on the server as an inline SVG (api/ui/map_svg.py), with a table of the same hotspots,
read through the query the API's /api/v1/hotspots uses."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.ui import data, map_svg
from api.ui.data import READ_YOUR_WRITES_SECONDS
from api.ui.forms import Errors, errors_of
from api.ui.messages import translate
from api.ui.refusals import FormInvalid, Problem
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import SessionDep, UiRoute, minqing, need
from domain.geo import Point, polygons_of
from domain.permissions import check_grid
from domain.place import Place
from domain.vocabulary import STAFF_ROLES, Category, Role
from projections.hotspots import HotspotQuery, Hotspots, hotspots
from projections.runner import ProjectionRunner

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
VIEWERS = (*STAFF_ROLES, Role.SUPERVISOR)
Text = Annotated[str, Query(max_length=64)]
At = Annotated[int | None, Query(ge=0)]


def _day(raw: str, name: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FormInvalid([Problem(name, "date_parsing", "not a date")]) from None


def _filters(
    session: UiSession, grid: str, category: str, since: str, until: str
) -> tuple[str | None, str | None, date | None, date | None]:
    """The filters checked: a grid of the reader's (403 otherwise), a category of the
    vocabulary, dates, `to` not before `from`; refused in words by field."""
    problems: list[Problem] = []
    chosen_grid = grid.strip() or None
    if chosen_grid:
        check_grid(session.principal, chosen_grid)
    chosen_category = category.strip() or None
    if chosen_category and chosen_category not in {c.value for c in Category}:
        problems.append(Problem("category", "enum", "not a category"))
    days: list[date | None] = []
    for raw, name in ((since, "from"), (until, "to")):
        try:
            days.append(_day(raw, name))
        except FormInvalid as exc:
            problems += exc.problems
            days.append(None)
    start, end = days
    if start and end and end < start:
        problems.append(Problem("to", "domain", "must not be before from"))
    if problems:
        raise FormInvalid(problems)
    return chosen_grid, chosen_category, start, end


def _grids_shown(session: UiSession, grid: str | None, places: list[Place]) -> list[str]:
    """The grids to outline: the one chosen, else the reader's, else every grid that has
    places in the register."""
    if grid:
        return [grid]
    if session.principal.grids:
        return sorted(session.principal.grids)
    return sorted({p.grid for p in places})


def _where(item: dict[str, Any], places: dict[str, Place], t: Any) -> tuple[str, Point | None]:
    """A hotspot's place or cell in words, and the point of its marker if a place has one."""
    if item.get("place"):
        place = places.get(str(item["place"]))
        if place is None:
            return t("map.place_unknown"), None
        return place.name, place.location
    cell = map_svg.cell_from_id(str(item.get("cell") or ""))
    if cell is None:
        return str(item.get("cell") or "—"), None
    centre = cell.centre()
    return t("map.cell", size=cell.size_m, lat=f"{centre.lat:.5f}", lng=f"{centre.lng:.5f}"), None


def _concerns(ids: list[str], references: dict[str, str]) -> list[dict[str, str]]:
    return [{"id": raw, "reference": references[raw]} for raw in ids if raw in references]


def hotspot_rows(
    request: Request, query: HotspotQuery
) -> tuple[list[dict[str, Any]], dict[str, Place]]:
    """The hotspots as the API answers them, with each place in the reader's scope (its
    name and point)."""
    app = minqing(request)
    return hotspots(app.db, query), {str(p.id): p for p in app.list_places(query.scope or None)}


@router.get("/hotspots")
def hotspot_page(
    request: Request,
    session: SessionDep,
    grid: Text = "",
    category: Text = "",
    since: Annotated[str, Query(alias="from", max_length=32)] = "",
    until: Annotated[str, Query(alias="to", max_length=32)] = "",
    at: At = None,
) -> Response:
    """The hotspot map and table within the reader's grids (staff roles, supervisors)."""
    need(session, *VIEWERS)
    app = minqing(request)
    lang = lang_of(request)
    values = {"grid": grid, "category": category, "from": since, "to": until}
    errors: Errors | None = None
    items: list[dict[str, Any]] = []
    places: dict[str, Place] = {}
    chosen_grid: str | None = None
    try:
        chosen_grid, chosen_category, start, end = _filters(session, grid, category, since, until)
    except FormInvalid as exc:
        errors = errors_of(exc, lang)
    if errors is None:
        runner: ProjectionRunner = request.app.state.projections
        if at is not None:
            runner.wait_for(Hotspots.name, at, READ_YOUR_WRITES_SECONDS)  # what the map reads
        query = HotspotQuery(
            grid=chosen_grid,
            category=chosen_category,
            since=datetime.combine(start, time.min, app.zone) if start else None,
            until=datetime.combine(end, time.max, app.zone) if end else None,
            scope=session.principal.grids,
        )
        items, places = hotspot_rows(request, query)
    else:
        places = {str(p.id): p for p in app.list_places(session.principal.grids or None)}

    def t(key: str, **kw: object) -> str:
        return translate(lang, key, **kw)

    # Every concern the table links, read together.
    linked = [str(c) for i in items for c in i["concern_ids"]]
    linked += [str(i["proactive_concern_id"]) for i in items if i.get("proactive_concern_id")]
    references = data.references(app, linked) if linked else {}
    rows, spots = [], []
    for item in sorted(items, key=lambda i: (-int(i["count"]), str(i["starts"]))):
        where, point = _where(item, places, t)
        proactive = item.get("proactive_concern_id")
        rows.append(
            {
                **item,
                "where": where,
                "concerns": _concerns(item["concern_ids"], references),
                # The committee's proactive concern, once the hotspot is recorded with one.
                "proactive": _concerns([str(proactive)], references) if proactive else [],
            }
        )
        spots.append(
            map_svg.MapSpot(
                id=str(item["id"]),
                label=where,
                count=int(item["count"]),
                cell=item.get("cell"),
                point=point,
            )
        )
    shown = _grids_shown(session, chosen_grid, list(places.values()))
    boundaries = {}
    for g in shown:
        boundary = app.boundary_of(g)
        if boundary is not None:
            boundaries[g] = polygons_of(boundary.geometry)
    drawing = map_svg.draw(boundaries, spots)
    context = {
        "rows": rows,
        "drawing": drawing,
        "legend": map_svg.legend(),
        "values": values,
        "errors": errors,
        "grids": shown,
        "unbounded": [g for g in shown if g not in boundaries],
    }
    status = errors.status if errors else 200
    return render(request, "hotspots.html", context, session=session, status=status)
