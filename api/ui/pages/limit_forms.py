"""The concern page's time-limit forms (督办, 延期, 超期申诉, api/ui/limit_actions.py) post to
/ui/concerns/{id}/do/{verb}: done, the browser goes back to the concern with a message;
refused, the concern page again with the form's reasons in words (and GET at that address,
a reload or a bookmark of it, goes to the concern page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.ui.concern_screen import concern_address, concern_page
from api.ui.data import find_concern
from api.ui.forms import errors_of
from api.ui.limit_actions import VERBS, perform
from api.ui.render import lang_of
from api.ui.web import PostedDep, UiRoute, form_address, minqing, redirect
from domain.errors import DomainError, NotFound

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


@router.post("/concerns/{ref}/do/{verb}")
def do(request: Request, ref: str, verb: str, posted: PostedDep) -> Response:
    """Do one time-limit verb from its form on the concern page."""
    app = minqing(request)
    concern = find_concern(app, ref)
    chosen = VERBS.get(verb)
    if chosen is None:
        raise NotFound("action", verb)
    form = posted.form
    version = int(form.get("version")) if form.get("version").isdigit() else None
    here = f"/ui/concerns/{concern.id}"
    try:
        result = perform(app, posted.session.principal, concern.id, chosen, form, version)
    except DomainError as exc:
        errors = errors_of(exc, lang_of(request))
        key = f"{concern.id}:{verb}"
        return concern_page(
            request,
            posted.session,
            app.get_concern(concern.id),
            form_errors={key: errors},
            form_values={key: form.flat()},
            status=errors.status,
            here=here,
        )
    return redirect(here, done=verb, concern=concern.id, at=result.position)


form_address(router, "/concerns/{ref}/do/{verb}", concern_address)
