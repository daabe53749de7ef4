"""Similar concerns in the record form: what a collector is typing, compared with the open
concerns of the grid (projections/concern_places.py), before it is recorded again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request

from api.ui.render import lang_of
from api.ui.sessions import UiSession
from api.ui.web import Form, minqing
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
