"""The concern page, rendered for the pages that show it: the concern's own page, and the
photo and time-limit forms that show it again with a refusal's messages; and the concern
page's address, where GET on those forms' addresses goes.

Not a page module: api/ui/pages/concern.py, photos.py and limit_forms.py all render this
page, so none of them imports another for it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.ui import cosigners, data, limit_actions, photos, timeline
from api.ui.forms import Errors
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import minqing
from application import disclosure
from domain.concern import Concern
from domain.lifecycle import Action
from domain.permissions import check_view
from domain.vocabulary import Role


def concern_page(
    request: Request,
    session: UiSession,
    concern: Concern,
    *,
    form_errors: dict[str, Errors] | None = None,
    form_values: dict[str, dict[str, str]] | None = None,
    status: int = 200,
    here: str | None = None,
    reveal_reason: str | None = None,
    reveal_errors: Errors | None = None,
) -> Response:
    """Render the concern page (also after a refused action, with its errors)."""
    app = minqing(request)
    principal = session.principal
    check_view(principal, concern)
    # Reads of the resident's personal data are logged before the page is made; a
    # supervisor's reveal gives its reason (and is logged with it).
    view = disclosure.disclose(
        app, principal, concern, app.concern_view(concern, principal), reason=reveal_reason
    )
    view["stage"] = app.stage_of(concern)
    if view.get("reason"):
        view["reason"] = timeline.said(view["reason"], lang_of(request))
    members = data.members(app)
    member_names = data.names(members)
    entries = app.history(concern.id)
    rows = timeline.rows(
        entries,
        lang_of(request),
        timeline.people(app, member_names),
        member_names,
        timeline.meeting_titles(app, entries),
    )
    card = {
        "id": view["id"],
        "version": view["version"],
        "allowed_actions": view["allowed_actions"],
        "duty_default": data.duty_default(view["category"]),
        "open_milestones": data.open_milestones(concern.milestones),
    }
    shortlisting = Action.SHORTLIST.value in view["allowed_actions"]
    limit_forms = limit_actions.offered(principal, concern)
    # A refusal whose form is no longer offered (the concern moved on) shows above them.
    orphans = [
        errors
        for key, errors in (form_errors or {}).items()
        if key.partition(":")[2] not in [*view["allowed_actions"], *limit_forms, "photo"]
    ]
    context = {
        "c": view,
        "card": card,
        "owner_name": member_names.get(view["owner"] or "", view["owner"] or ""),
        "timeline": rows,
        "members": members,
        "meetings": data.upcoming_meetings(app) if shortlisting else [],
        "form_errors": form_errors or {},
        "form_values": form_values or {},
        "orphan_errors": orphans,
        "limit_forms": limit_forms,
        "revealed": reveal_reason is not None,
        "reveal_errors": reveal_errors,
        "may_reveal": _may_reveal(principal, view),
        "mine_to_print": concern.raised_by == principal.id and bool(concern.tracking_code),
        "photos": photos.gallery(app, concern),
        "photo_kinds": photos.kinds_for(principal, concern),
        "place_name": cosigners.place_name(app, view),
        **cosigners.links(app, view),
    }
    return render(request, "concern.html", context, session=session, status=status, here=here)


def _may_reveal(principal: Any, view: dict[str, Any]) -> bool:
    resident = view.get("resident")
    return (
        Role.SUPERVISOR in principal.roles
        and isinstance(resident, dict)
        and bool(resident.get("redacted"))
    )


def concern_address(request: Request, session: UiSession) -> str:
    """The concern page's address, for whoever may see the concern (403 otherwise)."""
    concern = data.find_concern(minqing(request), str(request.path_params["ref"]))
    check_view(session.principal, concern)
    return f"/ui/concerns/{concern.id}"
