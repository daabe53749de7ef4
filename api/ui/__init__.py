"""The web UI: server-rendered pages under /ui/ for every user of the worked story."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.ui.actions import FIELDS
from api.ui.limit_actions import VERBS
from api.ui.pages import (
    calendar,
    concern,
    dashboard,
    evaluations,
    hotspot_map,
    inbox,
    ledger,
    limit_forms,
    meeting_room,
    meeting_votes,
    meetings,
    offline,
    photos,
    places,
    printouts,
    public,
    queues,
    record,
    scorecards,
    signin,
    supervision,
)
from api.ui.render import ENV, STATIC, as_date

ROUTERS = (
    signin.router,
    record.router,
    queues.router,
    concern.router,
    meetings.router,
    meeting_votes.router,
    meeting_room.router,
    public.router,
    supervision.router,
    ledger.router,
    evaluations.router,
    printouts.router,
    calendar.router,
    photos.router,
    inbox.router,
    dashboard.router,
    offline.router,
    hotspot_map.router,
    places.router,
    scorecards.router,
    limit_forms.router,
)


def install(app: FastAPI) -> None:
    """Serve the pages under /ui/ and their static files under /ui/static/."""
    ENV.globals.update(
        action_fields=FIELDS,
        limit_fields={v.name: v.fields for v in VERBS.values()},
        as_date=as_date,
    )
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/ui", include_in_schema=False)
    def ui_root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=308)

    for router in ROUTERS:
        app.include_router(router)
