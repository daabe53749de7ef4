"""Supervision (督查): any concern's timeline and its state at a chosen time, the audit
chain's verification, and the log of reads of residents' personal data, at /ui/supervision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from adapters import access_log, audit, request_events
from api.audit_keys import signing_key
from api.dates import check_day
from api.ui import data, timeline
from api.ui.data import find_concern
from api.ui.forms import errors_of
from api.ui.render import lang_of, render
from api.ui.timeline import meeting_titles, people
from api.ui.web import SessionDep, UiRoute, minqing, need
from application.settings import Settings
from domain.errors import DomainError, Invalid
from domain.permissions import check_view
from domain.vocabulary import Role

router = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)
ACCESS_LOG_ROWS = 50


def _moment(raw: str, app_zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid([("as_of", "Input should be a valid datetime")]) from None
    check_day(moment.date(), "as_of")  # before a time zone is applied to it
    return moment if moment.tzinfo else moment.replace(tzinfo=app_zone)


def _version(raw: str, latest: int) -> int:
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= latest:
        raise Invalid([("version", f"must be a version from 1 to {latest}")])
    return int(text)


@router.get("/supervision")
def supervision(
    request: Request,
    session: SessionDep,
    concern: Annotated[str, Query(max_length=100)] = "",
    as_of: Annotated[str, Query(max_length=40)] = "",
    version: Annotated[str, Query(max_length=12)] = "",
    verify: bool = False,
) -> Response:
    """The supervisor's desk: a concern's history and past state, verification, access log."""
    need(session, Role.SUPERVISOR)
    app = minqing(request)
    query = {"concern": concern, "as_of": as_of, "version": version}
    context: dict[str, Any] = {"query": query, "found": None}
    lang = lang_of(request)
    problems: list[str] = []
    if concern.strip():
        try:
            found = find_concern(app, concern)
            check_view(session.principal, found)
            entries = app.history(found.id)
            # Which request recorded each event: the id its log line carries.
            tagged = request_events.requests_of(app.db, str(found.id))
            for e in entries:
                e["request_id"] = tagged.get(e["version"])
            members = data.names(data.members(app))
            context["found"] = app.concern_view(found, session.principal)
            context["timeline"] = timeline.rows(
                entries,
                lang,
                people(app, members),
                members,
                meeting_titles(app, entries),
            )
            context["member_names"] = members
            if version.strip() or as_of.strip():
                # As the API's as_of_version and as_of: a version, or the version recorded
                # by a moment (the time the events were stored).
                if version.strip():
                    past_version = _version(version, found.version)
                    context["as_of_moment"] = None
                else:
                    moment = _moment(as_of, app.zone)
                    past_version = app.version_at(found.id, moment)
                    context["as_of_moment"] = moment
                context["as_of_version"] = past_version
                context["past"] = (
                    app.concern_view(app.get_concern(found.id, past_version), session.principal)
                    if past_version
                    else None
                )
        except Invalid as exc:
            problems += [message for _, message in errors_of(exc, lang).summary]
        except DomainError as exc:
            problems += errors_of(exc, lang).top
    if verify:
        settings: Settings = request.app.state.settings
        key = signing_key(settings, create=False)
        trusted = audit.public_key_b64(key) if key else None
        context["report"] = audit.verify(app.db, trusted).as_dict()
    log, _ = access_log.entries(app.db, limit=ACCESS_LOG_ROWS, grids=session.principal.grids)
    context["access_log"] = log
    context["problems"] = problems
    return render(request, "supervision.html", context, session=session)
