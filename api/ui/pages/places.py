"""The places register (地点登记) at /ui/places and a grid's boundary at
/ui/grids/{grid}/boundary: list a grid's places, add and change one (admins and staff
within their grids), and (admins) draw the boundary from GeoJSON pasted or uploaded."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.place_schemas import BoundaryIn, PlaceIn, PlacePatch
from api.ui import map_svg
from api.ui.forms import Errors, errors_of, parse
from api.ui.messages import translate
from api.ui.refusals import FormInvalid, Problem, problems_of
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import Form, PostedDep, SessionDep, UiRoute, minqing, need, redirect
from domain.errors import DomainError, Invalid
from domain.geo import point_from, polygons_of
from domain.permissions import check_grid
from domain.place import PlaceKind
from domain.vocabulary import STAFF_ROLES, Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
EDITORS = (Role.ADMIN, Role.STAFF)
# The form's names for the body's fields: "name" and "kind" already label other forms
# (the user name, the kind of meeting), so the page says "place's name", "kind of place".
_FORM_NAMES = {"name": "place_name", "kind": "place_kind"}
KINDS = [k.value for k in PlaceKind]
Grid = Annotated[str, Path(max_length=64)]


def _renamed(exc: Invalid) -> FormInvalid:
    problems = []
    for p in problems_of(exc):
        head, dot, rest = p.field.partition(".")
        problems.append(replace(p, field=_FORM_NAMES.get(head, head) + dot + rest))
    return FormInvalid(problems)


def _point(form: Form) -> dict[str, Any] | None:
    """The point typed ({"lat", "lng", "datum"}), or None when both numbers are blank."""
    lat, lng = form.get("point.lat").strip(), form.get("point.lng").strip()
    if not lat and not lng:
        return None
    return {"lat": lat, "lng": lng, "datum": form.get("point.datum") or "wgs84"}


def _body(form: Form, grid: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": form.get("place_name"),
        "kind": form.get("place_kind"),
        "point": _point(form),
        "office": form.get("office") == "true",
    }
    if grid is not None:
        data["grid"] = grid
    return data


def _grids(session: UiSession, chosen: str) -> list[str]:
    grids = sorted(session.principal.grids)
    if chosen and chosen not in grids:
        grids.append(chosen)
    return grids


def _list_page(
    request: Request,
    session: UiSession,
    grid: str,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    app = minqing(request)
    scope = frozenset({grid}) if grid else (session.principal.grids or None)
    places = app.list_places(scope)
    context = {
        "places": places,
        "grid": grid,
        "grids": _grids(session, grid),
        "kinds": KINDS,
        "errors": errors,
        "values": values or ({"grid": grid} if grid else {}),
        "may_draw": Role.ADMIN in session.principal.roles,
    }
    here = "/ui/places" + (f"?grid={grid}" if grid else "")
    status = errors.status if errors else 200
    return render(request, "places.html", context, session=session, status=status, here=here)


@router.get("/places")
def places_page(
    request: Request, session: SessionDep, grid: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """A grid's places, and the form to add one (admins, staff within their grids)."""
    need(session, *EDITORS)
    if grid.strip():
        check_grid(session.principal, grid.strip())
    return _list_page(request, session, grid.strip())


@router.post("/places")
def add_place(request: Request, posted: PostedDep) -> Response:
    """Add a place to a grid's register; a bad point is refused in words by its field."""
    session, form = posted.session, posted.form
    need(session, *EDITORS)
    app = minqing(request)
    grid = form.get("grid").strip()
    try:
        body = parse(PlaceIn, _body(form, grid))
        point = point_from(body.point.model_dump(), "point") if body.point else None
        app.register_place(session.principal, body.grid, body.name, body.kind, point, body.office)
    except Invalid as exc:
        errors = errors_of(_renamed(exc), lang_of(request))
        return _list_page(request, session, grid, errors, form.flat())
    except DomainError as exc:
        return _list_page(request, session, grid, errors_of(exc, lang_of(request)), form.flat())
    return redirect("/ui/places", grid=grid, done="place_added")


def _place_values(place: Any) -> dict[str, str]:
    point = place.point or {}
    return {
        "place_name": place.name,
        "place_kind": place.kind,
        "point.lat": str(point.get("lat", "")),
        "point.lng": str(point.get("lng", "")),
        "point.datum": "wgs84",
        "office": "true" if place.office else "",
    }


def _edit_page(
    request: Request,
    session: UiSession,
    place_id: UUID,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    place = minqing(request).get_place(place_id)
    check_grid(session.principal, place.grid)
    context = {
        "place": place,
        "kinds": KINDS,
        "errors": errors,
        "values": values if values is not None else _place_values(place),
    }
    status = errors.status if errors else 200
    return render(request, "place.html", context, session=session, status=status)


@router.get("/places/{place_id}")
def place_page(request: Request, session: SessionDep, place_id: UUID) -> Response:
    """One place with the form to change it (admins, staff of its grid)."""
    need(session, *EDITORS)
    return _edit_page(request, session, place_id)


@router.post("/places/{place_id}")
def change_place(request: Request, place_id: UUID, posted: PostedDep) -> Response:
    """Change a place's name, kind, point (blank: removed) or office flag."""
    session, form = posted.session, posted.form
    need(session, *EDITORS)
    app = minqing(request)
    place = app.get_place(place_id)
    check_grid(session.principal, place.grid)
    try:
        body = parse(PlacePatch, _body(form, None))
        changes: dict[str, Any] = {
            "name": body.name,
            "kind": body.kind,
            "office": body.office,
            "point": point_from(body.point.model_dump(), "point") if body.point else None,
        }
        app.change_place(place_id, session.principal, changes)
    except Invalid as exc:
        errors = errors_of(_renamed(exc), lang_of(request))
        return _edit_page(request, session, place_id, errors, form.flat())
    except DomainError as exc:
        errors = errors_of(exc, lang_of(request))
        return _edit_page(request, session, place_id, errors, form.flat())
    return redirect("/ui/places", grid=place.grid, done="place_changed")


# -- a grid's boundary -------------------------------------------------------------------


def _boundary_page(
    request: Request,
    session: UiSession,
    grid: str,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    app = minqing(request)
    boundary = app.boundary_of(grid)
    drawing = None
    if boundary is not None:
        drawing = map_svg.draw({grid: polygons_of(boundary.geometry)}, [])
    context = {
        "grid": grid,
        "boundary": boundary,
        "drawing": drawing,
        "may_draw": Role.ADMIN in session.principal.roles,
        "errors": errors,
        "values": values or {},
    }
    status = errors.status if errors else 200
    return render(request, "boundary.html", context, session=session, status=status)


@router.get("/grids/{grid}/boundary")
def boundary_page(request: Request, session: SessionDep, grid: Grid) -> Response:
    """A grid's boundary drawn as a map, and (admins) the form to draw it from GeoJSON."""
    need(session, *STAFF_ROLES, Role.SUPERVISOR)
    check_grid(session.principal, grid)
    return _boundary_page(request, session, grid)


def _geometry(form: Form, lang: str) -> dict[str, Any]:
    """The GeoJSON uploaded (a file wins over the text pasted) as a checked geometry."""
    raw = (form.files.get("file") or [b""])[0]
    text = raw.decode("utf-8", "replace") if raw else form.get("geojson")

    def refused(key: str) -> Invalid:
        return FormInvalid([Problem("geojson", "geojson", translate(lang, key))])

    if not text.strip():
        raise refused("err.geojson_empty")
    try:
        body = BoundaryIn.model_validate(json.loads(text))
        geometry = body.as_geometry()
        polygons_of(geometry)
    except (ValueError, Invalid):
        raise refused("err.geojson") from None
    return geometry


@router.post("/grids/{grid}/boundary")
def draw_boundary(request: Request, grid: Grid, posted: PostedDep) -> Response:
    """Draw (or redraw) the grid's boundary from a GeoJSON Feature, Polygon or MultiPolygon
    pasted or uploaded (admins)."""
    session, form = posted.session, posted.form
    need(session, Role.ADMIN)
    lang = lang_of(request)
    app = minqing(request)
    try:
        app.draw_boundary(session.principal, grid, _geometry(form, lang))
    except FormInvalid as exc:
        errors = Errors(422, first="geojson")
        message = exc.problems[0].message
        errors.fields["geojson"] = [message]
        errors.summary.append(("geojson", message))
        return _boundary_page(request, session, grid, errors, {"geojson": form.get("geojson")})
    except DomainError as exc:
        errors = errors_of(exc, lang)
        return _boundary_page(request, session, grid, errors, {"geojson": form.get("geojson")})
    return redirect(f"/ui/grids/{grid}/boundary", done="boundary_drawn")
