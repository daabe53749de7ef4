"""The evaluation of in-service members and volunteers (半年初评、年终总评) at
/ui/evaluations: hours served, posts, concerns resolved on time, points and the community's
feedback for a half-year or a year, with a CSV download for one organisation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.evaluation_export import to_csv
from api.evaluations_data import evaluate
from api.ui.forms import errors_of
from api.ui.render import lang_of, render
from api.ui.web import SessionDep, UiRoute, minqing, need
from application.settings import Settings
from domain.errors import Invalid
from domain.service import Period
from domain.vocabulary import STAFF_ROLES, Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
Text = Annotated[str, Query(max_length=100)]


def _items(request: Request, session: Any, period: Period, organisation: str) -> list[Any]:
    settings: Settings = request.app.state.settings
    return evaluate(minqing(request), settings, session.principal, period, organisation or None)


@router.get("/evaluations")
def evaluations_page(
    request: Request, session: SessionDep, period: Text = "", organisation: Text = ""
) -> Response:
    """Choose a period (2026H1, 2026H2, 2026): every member's evaluation for it."""
    need(session, *STAFF_ROLES, Role.SUPERVISOR)
    today = minqing(request).clock()
    chosen = period.strip() or f"{today.year}H{1 if today.month <= 6 else 2}"
    context: dict[str, Any] = {"period": chosen, "organisation": organisation, "errors": None}
    try:
        found = Period.parse(chosen)
        context["items"] = _items(request, session, found, organisation.strip())
        context["period"] = found.name
    except Invalid as exc:
        context["items"] = []
        context["errors"] = errors_of(exc, lang_of(request))
    status = context["errors"].status if context["errors"] else 200
    return render(request, "evaluations.html", context, session=session, status=status)


@router.get("/evaluations.csv")
def evaluations_csv(
    request: Request, session: SessionDep, period: Text = "", organisation: Text = ""
) -> Response:
    """The same table as CSV (UTF-8 with BOM), for one organisation if given."""
    need(session, *STAFF_ROLES, Role.SUPERVISOR)
    found = Period.parse(period)
    items = _items(request, session, found, organisation.strip())
    return Response(
        to_csv(items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="evaluations-{found.name}.csv"'},
    )
