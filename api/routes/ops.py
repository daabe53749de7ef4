"""Operations: liveness, readiness and the published workflow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import MinqingDep
from domain import lifecycle
from domain.vocabulary import Category, Channel, DutyRole, Library, PriorityVisit, Satisfaction

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(app: MinqingDep) -> JSONResponse:
    """The database answers; reports the event log's head position."""
    try:
        position = app.recorder.max_notification_id() or 0
    except Exception as exc:  # any driver error means not ready
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse(
        {"status": "ok", "database": app.db.dialect, "position": position, "projections": {}}
    )


@router.get("/workflow")
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
