"""Operations: liveness, readiness, metrics and the published workflow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from api import metrics as prometheus
from api.deps import MinqingDep
from api.openapi import answers, errors
from api.responses_registers import Health, NotReady, Ready, Workflow
from domain import lifecycle
from domain.vocabulary import Category, Channel, DutyRole, Library, PriorityVisit, Satisfaction
from projections.event_counts import event_counts

router = APIRouter(tags=["operations"])
# /readyz lists at most this many parked positions per read model (the count is all of them).
PARKED_SHOWN = 100


@router.get("/healthz", **answers(Health))
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"model": Ready, "description": "ready"},
        503: {
            "model": NotReady,
            "description": "the database did not answer (`unavailable`, with Retry-After), or"
            " a read model parked events (`degraded`)",
        },
    },
)
def readyz(app: MinqingDep, request: Request) -> JSONResponse:
    """The database answers; reports the event log's head, each projection's lag and parked
    events, and the webhook dispatcher's backlog (log positions not yet queued, messages not
    yet delivered and the age of the oldest). 503 `degraded` while a read model has parked
    events, naming them."""
    try:
        position = app.recorder.max_notification_id() or 0
        runner = request.app.state.projections
        statuses = runner.status()
        # The first positions of each read model that parked any: a probe stays cheap.
        parked = {
            s.name: [e.position for e in runner.parked(s.name, PARKED_SHOWN)]
            for s in statuses
            if s.parked
        }
        webhooks = request.app.state.webhook_dispatcher.webhooks.backlog().as_dict()
        this_year = app.clock().year
        years = {y: app.calendar_year(y) for y in (this_year, this_year + 1)}
    except Exception as exc:  # any driver error means not ready
        # The contract's error shape, with the status field probes already read.
        return JSONResponse(
            {
                "error": "unavailable",
                "message": "the database did not answer; try again shortly",
                "status": "unavailable",
                "database": type(exc).__name__,
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )
    # Lag is reported, not judged: a catching-up projection still serves (older) reads.
    body: dict[str, Any] = {
        "status": "ok",
        "database": app.db.dialect,
        "position": position,
        "projections": {s.name: s.as_dict() for s in statuses},
        "webhooks": webhooks,
        "calendar": {str(y): c.source for y, c in years.items()},
        # A year without an official holiday table is counted on weekdays: said, not failed.
        "notes": [n for y in years if (n := app.calendar_note(y))],
    }
    if not parked:
        return JSONResponse(body)
    # A read model that passed over an event serves rows without it: say so, and which.
    body["error"] = body["status"] = "degraded"
    body["parked"] = parked
    body["message"] = (
        f"read models {', '.join(sorted(parked))} passed over events they failed on;"
        " see `minqing projections parked`, fix, then `minqing projections retry NAME`"
    )
    return JSONResponse(body, status_code=503)


@router.get("/metrics", response_class=PlainTextResponse, responses=errors(503))
def metrics(app: MinqingDep, request: Request) -> PlainTextResponse:
    """Prometheus text: the log's head, each read model's position, lag and parked events,
    events by type, the webhook backlog; request durations, command outcomes, projection
    batches, webhook deliveries and process figures."""
    body = prometheus.exposition(
        head=app.recorder.max_notification_id() or 0,
        projections=request.app.state.projections.status(),
        events_by_type=event_counts(app.db),
        webhooks=request.app.state.webhook_dispatcher.webhooks.backlog(),
    )
    return PlainTextResponse(body, media_type=prometheus.CONTENT_TYPE)


@router.get("/workflow", **answers(Workflow))
def workflow() -> dict[str, Any]:
    """The concern lifecycle as data: states, actions, transitions, and the vocabularies."""
    data = lifecycle.as_json()
    data["vocabularies"] = {
        "category": Category.labels(),
        "library": Library.labels(),
        "channel": Channel.labels(),
        "duty_role": DutyRole.labels(),
        "satisfaction": Satisfaction.labels(),
        "priority_visit": PriorityVisit.labels(),
    }
    return data


@router.get("/workflow.mmd", response_class=PlainTextResponse)
def workflow_mermaid() -> str:
    """The lifecycle as a mermaid state diagram, drawn from the transitions table."""
    return lifecycle.mermaid()
