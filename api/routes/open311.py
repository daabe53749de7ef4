"""Open311 GeoReport v2 at /open311/v2/ (JSON and XML), and the servicerequestupdates extension.

Service codes are Minqing's six categories; a service request is a concern, identified by
its reference (MQ-…). Statuses map to the spec's two: intake, committee, branch_meeting and
assigned are `open`; resolved, declined, merged and withdrawn are `closed`. Reads need no
key, as the spec expects, so they carry only what the resident's tracking page shows: the
title (not the free-text description a collector wrote at the door), the status, the
public notes and dates; never a name, phone, address or location. Errors on these paths
are in the spec's format, `[{"code", "description"}]`, not Minqing's.

Requests and updates are read from the concern list and the open311_updates read models
(projections/open311.py), not from the log: a read first waits (up to 2 s) for them to hold
every event committed before it, so a request just created is listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from time import monotonic
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.dates import outside
from api.deps import READ_YOUR_WRITES_SECONDS
from api.errors import RateLimited
from api.open311_format import (
    CLOSED,
    Open311Error,
    answer,
    check_format,
    draft,
    error,
    local_time,
    request_row,
    services_rows,
)
from api.openapi import XML, answers
from api.responses_registers import (
    Open311RequestList,
    Open311ServiceList,
    Open311TokenList,
    Open311UpdateList,
)
from application.minqing import Minqing
from application.settings import Settings
from domain import text
from domain.concern import Concern
from domain.errors import DomainError, Forbidden, Invalid, NotFound
from domain.lifecycle import Status
from domain.vocabulary import Category
from projections import open311
from projections.concern_places import ConcernPlaces
from projections.concerns import ConcernList, utc_text
from projections.open311 import Open311Updates
from projections.runner import ProjectionRunner

router = APIRouter(prefix="/open311/v2", tags=["open311"])

WINDOW = timedelta(days=90)  # the spec's default (and widest) date range
MAX_REQUESTS = 1000  # the spec's suggested cap on one answer
Row = dict[str, Any]


# -- answers ---------------------------------------------------------------------------------


def _checked(request: Request) -> None:
    """The text policy (domain/text.py) on the path and query parameters: these paths are
    left out of api/params.py's check so the refusal comes in the spec's format."""
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in params:
        problem = text.problem(value) if isinstance(value, str) else None
        if problem:
            raise Open311Error(400, f"{name} {problem}")


def _guarded(fmt: str, produce: Callable[[str], Response], request: Request) -> Response:
    """Check the parameters and run `produce(format)`, turning every refusal into the
    spec's error body."""
    try:
        _checked(request)
        return produce(check_format(fmt))
    except Open311Error as exc:
        return error(fmt, exc.code, exc.description)
    except RateLimited as exc:
        response = error(fmt, 429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except DomainError as exc:
        code = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 400
        return error(fmt, code, str(exc))


def _minqing(request: Request) -> Minqing:
    app: Minqing = request.app.state.minqing
    return app


# -- services -------------------------------------------------------------------------------


@router.get("/services.{fmt}", **answers(Open311ServiceList, 404, open311=True, content=XML))
def services(fmt: str, request: Request) -> Response:
    """The six categories as Open311 services."""
    return _guarded(fmt, lambda f: answer(f, "services", "service", services_rows()), request)


# -- reading requests ------------------------------------------------------------------------


def _params(request: Request) -> dict[str, str]:
    """The query parameters; one given several times is joined by commas, as the spec
    allows for status, service_code and service_request_id."""
    query = request.query_params
    return {key: ",".join(query.getlist(key)) for key in query}


def _caught_up(request: Request) -> None:
    """Wait (up to 2 s) until the read models hold every event committed before this
    request, so a request just created is listed; after that, answer with what they hold."""
    app = _minqing(request)
    runner: ProjectionRunner = request.app.state.projections
    head = int(app.recorder.max_notification_id() or 0)
    deadline = monotonic() + READ_YOUR_WRITES_SECONDS
    for name in (ConcernList.name, Open311Updates.name, ConcernPlaces.name):
        runner.wait_for(name, head, max(0.0, deadline - monotonic()))


def _row_of(app: Minqing, concern: Concern) -> dict[str, Any]:
    """The concern-list row of a concern the read model does not hold yet (read from the
    aggregate), so a request is found by id the moment it exists."""
    notes = app.public_view(concern)["public_notes"]
    return {
        "reference": concern.reference,
        "title": concern.title,
        "status": concern.status,
        "category": concern.category,
        "duty_role": concern.duty_role,
        "due_on": concern.due_on.isoformat() if concern.due_on else None,
        "raised_at": utc_text(concern.raised_at),
        "updated_at": utc_text(concern.updated_at),
        "note": "; ".join(notes) or None,
        "lat": (concern.location or {}).get("lat"),
        "lng": (concern.location or {}).get("lng"),
    }


def _moment(raw: str | None, name: str, app: Minqing) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        msg = f"{name} must be a W3C date-time, e.g. 2026-03-01T00:00:00+08:00"
        raise Open311Error(400, msg) from None
    problem = outside(value.date())  # before a time zone or 90 days are added to it
    if problem:
        raise Open311Error(400, f"{name} {problem}")
    return value if value.tzinfo else value.replace(tzinfo=app.zone)


def _window(app: Minqing, start_raw: str | None, end_raw: str | None) -> tuple[datetime, datetime]:
    """The spec's window: without dates the last 90 days; with one date, 90 days from (or
    up to) it; two dates may not span more than 90 days."""
    start, end = _moment(start_raw, "start_date", app), _moment(end_raw, "end_date", app)
    if start is None:
        end = end or app.clock()
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return start, end


def _statuses(raw: str | None) -> list[str]:
    """The Minqing statuses an Open311 status filter (open, closed; comma list) covers."""
    wanted = {s.strip().lower() for s in (raw or "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, "status must be open or closed (comma separated)")
    if not wanted or wanted == {"open", "closed"}:
        return []
    closed = "closed" in wanted
    return sorted(s.value for s in Status if (s in CLOSED) == closed)


def _codes(raw: str | None) -> list[str]:
    codes = {c.strip() for c in (raw or "").split(",") if c.strip()}
    unknown = codes - {c.value for c in Category}
    if unknown:
        raise Open311Error(400, f"no service {', '.join(sorted(unknown))}; see services.json")
    return sorted(codes)


def _by_reference(app: Minqing, reference: str) -> Concern | None:
    try:
        return app.concern_by_reference(reference.strip())
    except NotFound:
        return None


def _cell_m(request: Request) -> int:
    settings: Settings = request.app.state.settings
    return settings.public_cell_m


def _by_references(app: Minqing, references: list[str], cell_m: int) -> list[Row]:
    """The requests of these ids, in the order asked; unknown ids are left out."""
    rows = {r["reference"]: r for r in open311.requests_by_reference(app.db, references)}
    found: list[Row] = []
    for reference in references:
        row = rows.get(reference)
        if row is None:  # not in the read model (yet): the log knows if it exists
            concern = _by_reference(app, reference)
            row = _row_of(app, concern) if concern is not None else None
        if row is not None:
            found.append(request_row(app, row, cell_m))
    return found


def _find_requests(app: Minqing, params: Mapping[str, str], cell_m: int) -> list[Row]:
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:  # the spec: other parameters are ignored when ids are given
        return _by_references(app, list(dict.fromkeys(ids))[:MAX_REQUESTS], cell_m)
    start, end = _window(app, params.get("start_date"), params.get("end_date"))
    rows = open311.requests_between(
        app.db,
        start,
        end,
        categories=_codes(params.get("service_code")),
        statuses=_statuses(params.get("status")),
        limit=MAX_REQUESTS,
    )
    return [request_row(app, r, cell_m) for r in rows]


@router.get(
    "/requests.{fmt}", **answers(Open311RequestList, 400, 404, 503, open311=True, content=XML)
)
def requests(fmt: str, request: Request) -> Response:
    """Service requests: by id (comma list), or by code, status and date (90 days at most,
    the last 90 days by default), newest first, at most 1000."""
    params = _params(request)

    def produce(f: str) -> Response:
        _caught_up(request)
        rows = _find_requests(_minqing(request), params, _cell_m(request))
        return answer(f, "service_requests", "request", rows)

    return _guarded(fmt, produce, request)


@router.get(
    "/requests/{request_id}.{fmt}",
    **answers(Open311RequestList, 404, 503, open311=True, content=XML),
)
def one_request(request_id: str, fmt: str, request: Request) -> Response:
    """One service request by its id (the concern's reference, MQ-…)."""

    def produce(f: str) -> Response:
        _caught_up(request)
        rows = _by_references(_minqing(request), [request_id.strip()], _cell_m(request))
        if not rows:
            raise Open311Error(404, f"no service request {request_id}")
        return answer(f, "service_requests", "request", rows)

    return _guarded(fmt, produce, request)


@router.get(
    "/tokens/{token}.{fmt}", **answers(Open311TokenList, 404, 429, 503, open311=True, content=XML)
)
def token(token: str, fmt: str, request: Request) -> Response:
    """The service request a token (the tracking code POST returned) belongs to."""

    def produce(f: str) -> Response:
        # Tokens are tracking codes: throttled like the tracking page against guessing.
        request.app.state.rate_limiter.check(request.client.host if request.client else "-")
        app = _minqing(request)
        try:
            concern = app.track(token)
        except NotFound:
            raise Open311Error(404, f"no service request for token {token}") from None
        row = {"service_request_id": concern.reference, "token": token}
        return answer(f, "service_requests", "request", [row])

    return _guarded(fmt, produce, request)


# -- the servicerequestupdates extension -------------------------------------------------


def _updates(app: Minqing, params: Mapping[str, str]) -> list[Row]:
    start, end = _window(app, params.get("start_date"), params.get("end_date"))
    rows: list[Row] = []
    for u in open311.updates_between(app.db, start, end, limit=MAX_REQUESTS):
        status = Status(u["status"])
        label = f"{status.zh} ({status.en})"
        rows.append(
            {
                "update_id": u["update_id"],
                "service_request_id": u["reference"],
                "status": "closed" if status in CLOSED else "open",
                "updated_datetime": local_time(app, u["at"]),
                "description": f"{label}: {u['note']}" if u["note"] else label,
                "media_url": None,
                "minqing_status": status.value,
            }
        )
    return rows


@router.get(
    "/servicerequestupdates.{fmt}",
    **answers(Open311UpdateList, 400, 404, 503, open311=True, content=XML),
)
def updates(fmt: str, request: Request) -> Response:
    """Status changes of service requests between start_date and end_date (90 days at most,
    the last 90 days by default), oldest first, at most 1000."""
    params = _params(request)

    def produce(f: str) -> Response:
        _caught_up(request)
        rows = _updates(_minqing(request), params)
        return answer(f, "service_request_updates", "request_update", rows)

    return _guarded(fmt, produce, request)


# -- creating a request ----------------------------------------------------------------------


async def _form(request: Request) -> dict[str, str]:
    """The posted fields, each through the text policy (`description` multi-line)."""
    fields = await _fields(request)
    for name, value in fields.items():
        try:
            check = text.check_multi_line if name == "description" else text.check_single_line
            fields[name] = check(value)
        except text.TextRefused as refused:
            raise Open311Error(400, f"{name} {refused}") from None
    return fields


async def _fields(request: Request) -> dict[str, str]:
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise Open311Error(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "the body must be a JSON object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    if kind not in ("", "application/x-www-form-urlencoded"):
        raise Open311Error(400, "send application/x-www-form-urlencoded (or JSON)")
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise Open311Error(400, "the body must be UTF-8") from None
    return {k: v[-1] for k, v in fields.items()}


def _create(app: Minqing, settings: Settings, form: Mapping[str, str], bearer: str) -> Row:
    key = (form.get("api_key") or bearer).strip()
    principal = app.accounts.authenticate(key) if key else None
    if principal is None:
        raise Open311Error(403, "api_key is missing or invalid")
    try:
        result = app.raise_concern(principal, draft(form, settings))
    except Invalid as exc:
        raise Open311Error(400, str(exc)) from None
    return {
        "service_request_id": result.reference,
        "token": result.tracking_code,
        "service_notice": (
            "已受理，社区将在分拣后答复；凭 token 可查询进度。"
            " Received: the community will triage it; follow it with the token."
        ),
        "account_id": None,
    }


@router.post(
    "/requests.{fmt}",
    **answers(Open311TokenList, 400, 403, 404, 503, open311=True, content=XML),
)
async def create_request(fmt: str, request: Request) -> Response:
    """Create a service request: a concern in intake, channel online (api_key = a token)."""
    try:
        chosen = check_format(fmt)
        form = await _form(request)
    except Open311Error as exc:
        return error(fmt, exc.code, exc.description)
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    bearer = bearer if scheme.lower() == "bearer" else ""
    app, settings = _minqing(request), request.app.state.settings

    def produce(f: str) -> Response:
        return answer(f, "service_requests", "request", [_create(app, settings, form, bearer)])

    # Raising a concern writes to the database: off the event loop.
    return await run_in_threadpool(_guarded, chosen, produce, request)


_RESOURCES = frozenset({"services", "requests", "tokens", "servicerequestupdates"})


# Registered last: any other path under /open311/v2 answers in the spec's format too.
@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def unknown(rest: str) -> Response:
    """Unknown Open311 resource: 404 in the spec's format."""
    fmt = "xml" if rest.endswith(".xml") else "json"
    resource = rest.split("/")[0].split(".")[0]
    if resource in _RESOURCES:
        return error(fmt, 405, f"/open311/v2/{rest} does not take this method")
    return error(fmt, 404, f"no Open311 resource /open311/v2/{rest}")
