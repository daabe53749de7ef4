"""The inbox 待办, at /ui/inbox: what needs the signed-in person's action now."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.ui import inbox
from api.ui.render import render
from api.ui.web import SessionDep, UiRoute, minqing

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


@router.get("/inbox")
def my_inbox(request: Request, session: SessionDep) -> Response:
    """Votes open for me, my assignments due soon or overdue, decisions my roles take."""
    found = inbox.inbox(minqing(request), session.principal)
    return render(request, "inbox.html", found, session=session)
