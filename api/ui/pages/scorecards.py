"""Scorecards (考核记分卡) at /ui/scorecards for supervisors and staff: per owner, grid or
collector for a period, each figure with the concerns behind it, the score and grade, and
the CSV and XLSX downloads; read as /api/v1/scorecards reads them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import scorecard_export
from api.registers import XLSX_TYPE, scorecards_of
from api.ui.data import READ_YOUR_WRITES_SECONDS
from api.ui.forms import errors_of
from api.ui.render import lang_of, render
from api.ui.sessions import UiSession
from api.ui.web import SessionDep, UiRoute, minqing, need
from application.settings import Settings
from domain.errors import Invalid
from domain.permissions import VIEW_ROLES
from projections.runner import ProjectionRunner
from projections.scorecard_figures import RATES, Subject
from projections.scorecards import Scorecards

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
From = Annotated[str, Query(alias="from", max_length=10)]
To = Annotated[str, Query(max_length=10)]
Kind = Annotated[str, Query(max_length=20)]


def _subject(raw: str) -> Subject:
    try:
        return Subject(raw.strip() or Subject.OWNER.value)
    except ValueError:
        raise Invalid([("subject", "must be owner, grid or collector")]) from None


def _read(
    request: Request, session: UiSession, subject: str, start: str, end: str
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    chosen = _subject(subject)
    return scorecards_of(
        minqing(request), settings, session.principal, chosen, (start or None, end or None)
    )


@router.get("/scorecards")
def scorecards_page(
    request: Request,
    session: SessionDep,
    subject: Kind = "owner",
    start: From = "",
    to: To = "",
    at: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Each subject's scorecard for the period, every figure opening to its concerns."""
    need(session, *VIEW_ROLES)
    if at is not None:  # a position just written: let the read model reach it first
        runner: ProjectionRunner = request.app.state.projections
        runner.wait_for(Scorecards.name, at, READ_YOUR_WRITES_SECONDS)
    query = {"subject": subject, "from": start, "to": to}
    context: dict[str, Any] = {"query": query, "problems": [], "found": None}
    try:
        context["found"] = _read(request, session, subject, start, to)
    except Invalid as exc:
        context["problems"] = [m for _, m in errors_of(exc, lang_of(request)).summary]
        return render(request, "scorecards.html", context, session=session, status=422)
    context["rates"] = [name for name, _, _ in RATES]
    context["download"] = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return render(request, "scorecards.html", context, session=session)


def _download(
    request: Request, session: UiSession, subject: str, start: str, end: str, kind: str
) -> Response:
    need(session, *VIEW_ROLES)
    found = _read(request, session, subject, start, end)
    name = scorecard_export.filename(found, kind)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        body = scorecard_export.to_csv(found)
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(scorecard_export.to_xlsx(found), media_type=XLSX_TYPE, headers=headers)


@router.get("/scorecards.csv")
def scorecards_csv(
    request: Request, session: SessionDep, subject: Kind = "owner", start: From = "", to: To = ""
) -> Response:
    """The scorecards as CSV, as /api/v1/scorecards?format=csv."""
    return _download(request, session, subject, start, to, "csv")


@router.get("/scorecards.xlsx")
def scorecards_xlsx(
    request: Request, session: SessionDep, subject: Kind = "owner", start: From = "", to: To = ""
) -> Response:
    """The scorecards as an Excel workbook, as /api/v1/scorecards?format=xlsx."""
    return _download(request, session, subject, start, to, "xlsx")
