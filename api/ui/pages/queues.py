"""The work queues and the concern list: /ui/triage, /ui/committee, /ui/tasks, /ui/concerns.

Each reads the concern-list read model within the caller's grids and shows, on every
concern, the forms of the actions the caller may take on it now.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.ui import data
from api.ui.render import render
from api.ui.sessions import UiSession
from api.ui.web import SessionDep, UiRoute, minqing, need
from domain.lifecycle import Action, Status
from domain.permissions import VIEW_ROLES
from domain.vocabulary import Category, Library, Role
from projections import concerns as concern_list
from projections.concerns import ConcernQuery

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
At = Annotated[int | None, Query(ge=0)]
Cursor = Annotated[str | None, Query(max_length=1000)]

# The actions each queue offers inline; the rest are on the concern's own page.
TRIAGE_ACTIONS = (Action.REFER, Action.HANDLE_NOW, Action.DECLINE, Action.MERGE_INTO)
COMMITTEE_ACTIONS = (Action.SHORTLIST, Action.ASSIGN, Action.DECLINE, Action.RETURN_FOR_INFO)
TASK_ACTIONS = (Action.RECORD_PROGRESS, Action.RESOLVE, Action.SEND_BACK)


def _queue(
    request: Request,
    session: UiSession,
    name: str,
    offered: tuple[Action, ...],
    cursor: str | None,
    at: int | None,
) -> Response:
    app = minqing(request)
    p = session.principal
    query, order = concern_list.queue_query(name, p.member_id, p.grids)
    people = data.members(app)
    page = data.listing(request, p, query, order, cursor=cursor, at=at, owners=data.names(people))
    context: dict[str, Any] = {
        "queue": name,
        "listing": page,
        "offered": [a.value for a in offered],
        "members": people,
        "meetings": data.upcoming_meetings(app) if Action.SHORTLIST in offered else [],
        "today": app.clock().date(),
    }
    return render(request, "queue.html", context, session=session)


@router.get("/triage")
def triage(request: Request, session: SessionDep, cursor: Cursor = None, at: At = None) -> Response:
    """The intake queue, oldest first: refer, handle now, decline, merge."""
    need(session, Role.GRID_LEADER, Role.STAFF, Role.ADMIN)
    return _queue(request, session, "triage", TRIAGE_ACTIONS, cursor, at)


@router.get("/committee")
def committee(
    request: Request, session: SessionDep, cursor: Cursor = None, at: At = None
) -> Response:
    """The committee's queue, oldest first: shortlist onto a meeting, or assign."""
    need(session, Role.COMMITTEE, Role.CHAIR, Role.STAFF)
    return _queue(request, session, "committee", COMMITTEE_ACTIONS, cursor, at)


@router.get("/tasks")
def tasks(request: Request, session: SessionDep, cursor: Cursor = None, at: At = None) -> Response:
    """The signed-in member's assignments, earliest due first, overdue marked."""
    if session.principal.member_id is None:
        return render(request, "queue.html", _not_member(), session=session)
    return _queue(request, session, "mine", TASK_ACTIONS, cursor, at)


def _not_member() -> dict[str, Any]:
    return {
        "queue": "mine",
        "listing": data.Listing([], None),
        "offered": [],
        "members": [],
        "meetings": [],
        "today": None,
        "not_member": True,
    }


@router.get("/concerns")
def concerns(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    library: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    at: At = None,
) -> Response:
    """Every concern in the caller's grids, newest first, with a search and filters."""
    need(session, *VIEW_ROLES)
    app = minqing(request)
    query = ConcernQuery(
        statuses=[status] if status in {s.value for s in Status} else [],
        categories=[category] if category in {c.value for c in Category} else [],
        libraries=[library] if library in {lib.value for lib in Library} else [],
        q=q or None,
        scope=session.principal.grids,
    )
    people = data.members(app)
    page = data.listing(
        request,
        session.principal,
        query,
        concern_list.Order.NEWEST,
        cursor=cursor,
        at=at,
        owners=data.names(people),
    )
    filters = {
        "q": q or "",
        "status": status or "",
        "category": category or "",
        "library": library or "",
    }
    return render(request, "concerns.html", {"listing": page, "filters": filters}, session=session)
