"""Working without signal: the service worker (/ui/sw.js, served at the UI's root so it may
control every page under /ui/) and the outbox page (/ui/outbox) that lists the forms
waiting on the phone and those refused, from IndexedDB (api/ui/static/offline.js)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from api.ui.render import STATIC, render
from api.ui.web import SessionDep, UiRoute, need
from domain.vocabulary import Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker's script (no session needed: it holds nothing of anyone's)."""
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/ui/", "Cache-Control": "no-cache"},
    )


@router.get("/outbox")
def outbox(request: Request, session: SessionDep) -> Response:
    """What waits on this phone to be sent, and what was refused and why."""
    need(session, Role.COLLECTOR, Role.STAFF)
    return render(request, "outbox.html", {}, session=session)
