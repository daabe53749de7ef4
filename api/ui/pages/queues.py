"""The work queues and the concern list: /ui/triage, /ui/committee, /ui/tasks, /ui/concerns.

Each reads the concern-list read model within the caller's grids, says how many match in
all, pages forwards and back, and shows on every concern the start of its description, its
latest note, and the actions the caller may take on it now: a short form inline, or a link
to the action's own page when its form needs a picker (so a card stays light).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.ui import data
from api.ui.queue_screen import paging, queue_page
from api.ui.render import render
from api.ui.web import SessionDep, UiRoute, minqing, need
from domain.lifecycle import Status
from domain.permissions import VIEW_ROLES
from domain.vocabulary import Category, Library, Role
from projections import concerns as concern_list
from projections.concerns import ConcernQuery

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
At = Annotated[int | None, Query(ge=0)]
Cursor = Annotated[str | None, Query(max_length=1000)]


@router.get("/triage")
def triage(request: Request, session: SessionDep, cursor: Cursor = None, at: At = None) -> Response:
    """The intake queue, oldest first: refer, handle now, decline, merge."""
    need(session, Role.GRID_LEADER, Role.STAFF, Role.ADMIN)
    return queue_page(request, session, "triage", cursor, at=at)


@router.get("/committee")
def committee(
    request: Request, session: SessionDep, cursor: Cursor = None, at: At = None
) -> Response:
    """The committee's queue, oldest first: shortlist onto a meeting, or assign."""
    need(session, Role.COMMITTEE, Role.CHAIR, Role.STAFF)
    return queue_page(request, session, "committee", cursor, at=at)


@router.get("/tasks")
def tasks(request: Request, session: SessionDep, cursor: Cursor = None, at: At = None) -> Response:
    """The signed-in member's assignments, earliest due first, overdue marked."""
    return queue_page(request, session, "tasks", cursor, at=at)


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
    # A reference (MQ-2026-000001) finds its concern, whatever the other filters say.
    found = data.by_reference(app, session.principal, q or "")
    query = ConcernQuery(
        statuses=[status] if status in {s.value for s in Status} else [],
        categories=[category] if category in {c.value for c in Category} else [],
        libraries=[library] if library in {lib.value for lib in Library} else [],
        q=q or None,
        scope=session.principal.grids,
    )
    owners = {str(m.id): m.name for m in app.list_members()}
    if found is not None:
        page = data.Listing([data.card(app, session.principal, found, owners)], None, 1)
    else:
        page = data.listing(
            request,
            session.principal,
            query,
            concern_list.Order.NEWEST,
            cursor=cursor,
            at=at,
            owners=owners,
        )
    filters = {
        "q": q or "",
        "status": status or "",
        "category": category or "",
        "library": library or "",
    }
    context = {
        "listing": page,
        "filters": filters,
        "paging": paging(request, query, concern_list.Order.NEWEST, page),
    }
    return render(request, "concerns.html", context, session=session)
