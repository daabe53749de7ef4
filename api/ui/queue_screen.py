"""The work queues' page (triage, committee, tasks), rendered for the pages that show it:
the queues themselves, and the concern's action forms, which show a refused form again on
the queue it was posted from; and the paging links the concern list shares.

Not a page module: api/ui/pages/queues.py and concern.py both render this page, so neither
imports the other for it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from api.ui import data
from api.ui.actions import ON_THEIR_OWN_PAGE
from api.ui.forms import Errors
from api.ui.render import render
from api.ui.sessions import UiSession
from api.ui.web import minqing
from domain.lifecycle import Action
from projections import concerns as concern_list
from projections.concerns import ConcernQuery

# The actions each queue offers inline; the rest are on the concern's own page.
TRIAGE_ACTIONS = (Action.REFER, Action.HANDLE_NOW, Action.DECLINE, Action.MERGE_INTO)
COMMITTEE_ACTIONS = (Action.SHORTLIST, Action.ASSIGN, Action.DECLINE, Action.RETURN_FOR_INFO)
TASK_ACTIONS = (Action.RECORD_PROGRESS, Action.RESOLVE, Action.SEND_BACK)


OFFERED = {"triage": TRIAGE_ACTIONS, "committee": COMMITTEE_ACTIONS, "tasks": TASK_ACTIONS}
# The form a card carries inline: the queue's everyday action (and, on the owner's short
# list, all three). The others link to the action's own page, so a page of 30 cards stays
# light (docs/performance.md).
INLINE = {
    "triage": (Action.REFER,),
    "committee": (Action.SHORTLIST,),
    "tasks": TASK_ACTIONS,
}
_QUEUE_OF_PAGE = {"triage": "triage", "committee": "committee", "tasks": "mine"}


def paging(
    request: Request, query: ConcernQuery, order: concern_list.Order, page: data.Listing
) -> dict[str, Any]:
    """Links to the previous and next pages (the query kept), and the page's place."""
    app = minqing(request)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in _KEPT]
    has_previous, previous = (
        data.previous_cursor(app, query, order, page.cards[0]["id"])
        if page.cards and request.query_params.get("cursor")
        else (False, None)
    )

    def link(cursor: str | None) -> str:
        params = [*kept, *([("cursor", cursor)] if cursor else [])]
        return request.url.path + (f"?{urlencode(params)}" if params else "")

    return {
        "previous": link(previous) if has_previous else None,
        "next": link(page.next_cursor) if page.next_cursor else None,
        "total": page.total,
        "shown": len(page.cards),
    }


_KEPT = ("q", "status", "category", "library")


def queue_page(
    request: Request,
    session: UiSession,
    page_name: str,
    cursor: str | None,
    *,
    at: int | None = None,
    form_errors: dict[str, Errors] | None = None,
    form_values: dict[str, dict[str, str]] | None = None,
    status: int = 200,
    here: str | None = None,
) -> Response:
    """A work queue (triage, committee, tasks), also with a refused form shown again."""
    app = minqing(request)
    p = session.principal
    if page_name == "tasks" and p.member_id is None:
        return render(request, "queue.html", _not_member(), session=session)
    name = _QUEUE_OF_PAGE[page_name]
    offered = OFFERED[page_name]
    query, order = concern_list.queue_query(name, p.member_id, p.grids)
    owners = {str(m.id): m.name for m in app.list_members()}
    page = data.listing(
        request,
        p,
        query,
        order,
        cursor=cursor,
        at=at,
        owners=owners,
        notes=True,
        contact=name == "mine",
    )
    inline = [a for a in INLINE[page_name] if a not in ON_THEIR_OWN_PAGE]
    context: dict[str, Any] = {
        "queue": name,
        "listing": page,
        "paging": paging(request, query, order, page),
        "offered": [a.value for a in offered],
        "linked": [a.value for a in offered if a not in inline],
        # Inline forms need no member picker: those actions link to their own page.
        "members": [],
        "meetings": data.upcoming_meetings(app) if Action.SHORTLIST in inline else [],
        "today": app.clock().date(),
        "form_errors": form_errors or {},
        "form_values": form_values or {},
    }
    return render(request, "queue.html", context, session=session, status=status, here=here)


def _not_member() -> dict[str, Any]:
    return {
        "queue": "mine",
        "listing": data.Listing([], None),
        "paging": {"previous": None, "next": None, "total": 0, "shown": 0},
        "offered": [],
        "linked": [],
        "members": [],
        "meetings": [],
        "today": None,
        "not_member": True,
    }
