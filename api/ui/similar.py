"""Similar concerns in the record form: what a collector is typing, compared with the open
concerns of the grid (projections/concern_places.py), before it is recorded again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request

from api.ui.render import lang_of
from api.ui.sessions import UiSession
from api.ui.web import Form, minqing
from domain.errors import Invalid
from domain.geo import Point, point_from
from domain.lifecycle import Status
from projections.concern_places import SimilarQuery, similar


def suggestions(request: Request, session: UiSession, form: Form, i: int) -> list[dict[str, Any]]:
    """The suggestions for the form's concern section `i` (same grid and category)."""
    app = minqing(request)
    prefix = f"c{i}."
    grid = form.get("grid").strip()
    if grid and not session.principal.covers(grid):
        return []
    query = SimilarQuery(
        place=form.get(prefix + "place").strip() or None,
        point=_point(form, prefix),
        title=form.get(prefix + "title"),
        description=" ".join(form.get(prefix + "description").split()),
        category=form.get(prefix + "category") or None,
        grid=grid or None,
        scope=session.principal.grids,
    )
    lang = lang_of(request)
    found = similar(app.db, query, datetime.now(app.zone))
    for item in found:
        status = Status(item["status"])
        item["status_label"] = status.zh if lang == "zh" else status.en
    return found


def _point(form: Form, prefix: str) -> Point | None:
    """The point typed in the section, if it is one (a bad one is said when saving)."""
    try:
        lat = float(form.get(prefix + "location.lat"))
        lng = float(form.get(prefix + "location.lng"))
        return point_from(
            {"lat": lat, "lng": lng}, datum=form.get(prefix + "location.datum") or None
        )
    except (ValueError, Invalid):
        return None
