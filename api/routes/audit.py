"""The supervisors' audit: /api/v1/audit (the chain, its signed checkpoints, the access log)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from starlette.exceptions import HTTPException

from adapters import access_log, audit, request_events
from api.audit_keys import signing_key
from api.deps import MinqingDep, SettingsDep, require
from api.openapi import answers, errors
from api.responses_registers import (
    AccessLogPage,
    Checkpoint,
    Checkpoints,
    RequestEvents,
    Verification,
)
from application.minqing import Minqing
from application.requests import valid_request_id
from application.settings import Settings
from domain.concern import Concern
from domain.errors import Invalid, NotFound
from domain.principal import Principal
from domain.unreadable import UnreadableEvent
from domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=errors(401, 403, 503))
Supervisor = Annotated[Principal, require(Role.SUPERVISOR)]


def _trusted_key(settings: Settings) -> str | None:
    key = signing_key(settings, create=False)
    return audit.public_key_b64(key) if key else None


@router.get("/verify", **answers(Verification))
def verify(app: MinqingDep, settings: SettingsDep, _: Supervisor) -> dict[str, Any]:
    """Recompute the hash chain from the stored events; report the first that differs."""
    return audit.verify(app.db, _trusted_key(settings)).as_dict()


@router.get("/checkpoints", **answers(Checkpoints))
def list_checkpoints(
    app: MinqingDep,
    settings: SettingsDep,
    _: Supervisor,
    format: Literal["json", "export"] = "json",
) -> dict[str, Any] | Response:
    """The signed chain heads, oldest first; `?format=export` is a file to keep elsewhere."""
    cps = audit.checkpoints(app.db)
    public_key = _trusted_key(settings) or (cps[-1].public_key if cps else None)
    if format == "export":
        doc = audit.checkpoints_export(cps, public_key)
        day = datetime.now(UTC).date().isoformat()
        return Response(
            json.dumps(doc, ensure_ascii=False, indent=2),
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="minqing-checkpoints-{day}.json"'
            },
        )
    return {
        "public_key": public_key,
        "public_key_sha256": audit.key_fingerprint(public_key) if public_key else None,
        "head": audit.chain_head(app.db).as_dict(),
        "items": [c.as_dict() for c in cps],
    }


@router.post("/checkpoints", **answers(Checkpoint, status=201))
def make_checkpoint(
    app: MinqingDep,
    settings: SettingsDep,
    _: Annotated[Principal, require(Role.SUPERVISOR, Role.ADMIN)],
) -> dict[str, Any]:
    """Chain every stored event and sign the chain's head now."""
    key = signing_key(settings, create=True)
    if key is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "no audit signing key is configured: set MINQING_AUDIT_SIGNING_KEY",
        )
    return audit.make_checkpoint(app.db, key).as_dict()


@router.get("/access-log", **answers(AccessLogPage))
def access_log_page(
    app: MinqingDep,
    principal: Supervisor,
    resident_ref: Annotated[str | None, Query(max_length=100)] = None,
    concern_id: Annotated[str | None, Query(max_length=100)] = None,
    principal_id: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=access_log.PAGE_MAX)] = 50,
) -> dict[str, Any]:
    """Who read residents' personal data, when and why: newest first, `next_cursor` pages;
    a supervisor limited to some grids sees the reads of those grids only."""
    items, next_cursor = access_log.entries(
        app.db,
        resident_ref=resident_ref,
        concern_id=concern_id,
        principal_id=principal_id,
        cursor=cursor,
        limit=limit,
        grids=principal.grids,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/requests/{request_id}", **answers(RequestEvents, 422))
def request_events_page(request_id: str, app: MinqingDep, principal: Supervisor) -> dict[str, Any]:
    """The events an HTTP request recorded, by the X-Request-ID its log line shows; a
    supervisor limited to some grids sees the events of those grids' concerns only."""
    if not valid_request_id(request_id):
        raise Invalid([("request_id", "is not a request id (letters, digits and ._:=+-)")])
    found: list[dict[str, Any]] = []
    for aggregate_id, version in request_events.events_of(app.db, request_id):
        (stored,) = app.recorder.select_events(UUID(aggregate_id), gt=version - 1, lte=version)
        if principal.grids and not _in_grids(app, UUID(aggregate_id), principal.grids):
            continue
        found.append(
            {
                "aggregate_id": aggregate_id,
                "version": version,
                "position": app.db.position_of(aggregate_id, version),
                "type": stored.topic.rpartition(":")[2],
            }
        )
    found.sort(key=lambda e: e["position"] or 0)
    return {"request_id": request_id, "events": found}


def _in_grids(app: Minqing, aggregate_id: UUID, grids: frozenset[str]) -> bool:
    try:
        found = app.get_concern(aggregate_id)
    except (NotFound, UnreadableEvent):  # not a concern (a meeting, an index …), or unreadable
        return False
    return isinstance(found, Concern) and found.grid in grids
