"""A period's evaluation as the API and the web UI show it: the application's hours, posts
and feedback, with the concerns resolved on time and the points of the member points read
model (the configured weights)."""

from __future__ import annotations

from typing import Any

from application.minqing import Minqing
from application.settings import Settings
from domain.principal import Principal
from domain.service import Period
from projections import member_points
from projections.member_points import Period as Days


def evaluate(
    app: Minqing,
    settings: Settings,
    principal: Principal,
    period: Period,
    organisation: str | None = None,
) -> list[dict[str, Any]]:
    """One item per member within the caller's grids (of `organisation` only, if given)."""
    weights = member_points.weights(settings)
    points = member_points.totals(app.db, weights, Days(period.first, period.last))
    nothing = member_points.scored({}, weights)
    items = []
    for item in app.evaluations(principal, period):
        if organisation and item["organisation"] != organisation:
            continue
        scored = points.get(item["member_id"], nothing)
        on_time = next(i["count"] for i in scored["items"] if i["kind"] == "resolved_on_time")
        items.append({**item, "resolved_on_time": on_time, "points": scored["total"]})
    return items
