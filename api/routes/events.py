"""Integrators: the event feed (pull and Server-Sent Events), its JSON Schemas, AsyncAPI.

Every event is a CloudEvents 1.0 object (domain/cloudevents.py) with `sequence` = its log
position. Positions grow in commit order but may have gaps (a failed insert burns its ids,
internal events are not published): resume from `next_after` (pull) or the last `id:`
(stream), never from "position + 1".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from adapters.feed import MAX_LIMIT, EventFeed
from adapters.loghub import LogHub
from api.asyncapi import asyncapi_document
from api.deps import SettingsDep, require
from api.openapi import SSE_EVENT, answers, errors
from api.responses_registers import EventSchemas, FeedOut, JsonDocument
from application.settings import Settings
from domain import cloudevents
from domain.errors import Invalid, NotFound
from domain.principal import Principal
from domain.unreadable import UNREADABLE_TYPE, unreadable_schema
from domain.vocabulary import Role

DEFAULT_LIMIT = 100
# Events read per round trip while a stream catches up.
STREAM_BATCH = 500
# How long a disconnected EventSource waits before it reconnects (the SSE `retry:` field).
RETRY_MILLISECONDS = 3000


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Merged into the application's lifespan by include_router: stops the hub on shutdown.
    yield
    hub: LogHub | None = getattr(app.state, "log_hub", None)
    if hub is not None:
        await run_in_threadpool(hub.close)


router = APIRouter(tags=["integrators"], lifespan=_lifespan)
Reader = Annotated[Principal, require(Role.INTEGRATOR, Role.SUPERVISOR)]
_made = threading.Lock()


def event_feed(request: Request) -> EventFeed:
    """The process's one feed (it caches which meetings vote by secret ballot)."""
    state = request.app.state
    with _made:
        feed: EventFeed | None = getattr(state, "event_feed", None)
        if feed is None:
            settings: Settings = state.settings
            feed = state.event_feed = EventFeed(
                state.minqing, settings.event_source, settings.public_url
            )
    return feed


def log_hub(state: Any) -> LogHub:
    """The process's one log watcher, started on first use (blocking: call off the loop)."""
    with _made:
        hub: LogHub | None = getattr(state, "log_hub", None)
        if hub is None:
            hub = state.log_hub = LogHub(state.minqing)
            hub.start()
    return hub


FeedDep = Annotated[EventFeed, Depends(event_feed)]
After = Annotated[
    int, Query(ge=0, description="the last position already seen (0: from the start)")
]
Types = Annotated[
    list[str] | None,
    Query(
        alias="type",
        description="CloudEvents types to include; repeat the parameter or separate by commas",
    ),
]
Subject = Annotated[str | None, Query(description="an aggregate id: only its events")]


def _types(raw: list[str] | None) -> list[str]:
    names = [t.strip() for value in raw or [] for t in value.split(",") if t.strip()]
    if UNREADABLE_TYPE in names:
        message = "stands in for an event of any type: filter by the types you follow"
        raise Invalid([("type", f"{UNREADABLE_TYPE} {message}")])
    unknown = sorted(set(names) - set(cloudevents.BY_TYPE))
    if unknown:
        known = "; see /api/v1/events/schemas"
        raise Invalid([("type", f"unknown event type {', '.join(unknown)}{known}")])
    return names


def _subject(raw: str | None) -> UUID | None:
    if raw is None or not raw.strip():
        return None
    try:
        return UUID(raw.strip())
    except ValueError:
        raise Invalid([("subject", "must be an aggregate id (a UUID)")]) from None


@router.get(
    "/api/v1/events",
    response_class=JSONResponse,
    **answers(FeedOut, 401, 403, 503, description="CloudEvents, oldest first"),
)
def pull(
    feed: FeedDep,
    _: Reader,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    type: Types = None,
    subject: Subject = None,
) -> JSONResponse:
    """Events after `after`, oldest first, and `next_after` to ask after next.

    Positions grow in commit order but may have gaps; `next_after` is the position of the
    last event scanned (with filters it may be past the last event returned), so keep it
    and ask again: reading from 0 to the end gives every event exactly once, in order.
    """
    page = feed.page(after, limit, _types(type), _subject(subject))
    # A JSONResponse skips FastAPI's re-encoding of the (already plain) events.
    return JSONResponse({"events": page.events, "next_after": page.next_after})


@router.get("/api/v1/events/schemas", **answers(EventSchemas))
def all_schemas(settings: SettingsDep) -> dict[str, Any]:
    """The JSON Schema of `data` for every published event type and version, and of the
    stand-in for an event that can no longer be read (it has no data)."""
    return {
        "specversion": cloudevents.SPECVERSION,
        "types": sorted([*cloudevents.BY_TYPE, UNREADABLE_TYPE]),
        "schemas": {
            **cloudevents.schemas(settings.public_url),
            UNREADABLE_TYPE: unreadable_schema(settings.public_url),
        },
        "withheld": {c.type: dict(c.withheld) for c in cloudevents.CONTRACTS if c.withheld},
    }


@router.get("/api/v1/events/schemas/{event_type}", **answers(JsonDocument, 404))
def one_schema(event_type: str, settings: SettingsDep) -> dict[str, Any]:
    """The JSON Schema of one event type's `data` (each event's `dataschema` points here)."""
    if event_type == UNREADABLE_TYPE:
        return unreadable_schema(settings.public_url)
    contract = cloudevents.BY_TYPE.get(event_type)
    if contract is None:
        raise NotFound("event type", event_type)
    return contract.schema(settings.public_url)


@router.get(
    "/api/v1/events/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"itemSchema": SSE_EVENT}},
            "description": "events as SSE",
        },
        **errors(401, 403, 503),
    },
)
async def stream(
    request: Request,
    feed: FeedDep,
    _: Reader,
    after: After = 0,
    type: Types = None,
    subject: Subject = None,
    last_event_id: Annotated[str | None, Header(description="resume after this id")] = None,
) -> StreamingResponse:
    """The feed as Server-Sent Events: `id:` is the position; `: keep-alive` heartbeats.

    `Last-Event-ID` (sent by EventSource on reconnect) wins over `?after=`. Positions may
    have gaps. The stream ends after `MINQING_EVENT_STREAM_MAX_SECONDS`; reconnect with
    Last-Event-ID to go on.
    """
    start = after
    if last_event_id is not None and last_event_id.strip():
        if not last_event_id.strip().isdigit():
            raise Invalid([("Last-Event-ID", "must be a position sent as an event's id")])
        start = int(last_event_id.strip())
    types, wanted = _types(type), _subject(subject)
    settings: Settings = request.app.state.settings
    hub = await run_in_threadpool(log_hub, request.app.state)
    body = _sse(
        feed,
        hub,
        start,
        types,
        wanted,
        settings.event_stream_heartbeat_seconds,
        settings.event_stream_max_seconds,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


async def _sse(
    feed: EventFeed,
    hub: LogHub,
    position: int,
    types: list[str],
    subject: UUID | None,
    heartbeat: float,
    longest: float,
) -> AsyncIterator[bytes]:
    yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
    started = last_write = time.monotonic()
    while time.monotonic() - started < longest:
        # The database is read in a worker thread: the event loop never blocks on it.
        page = await run_in_threadpool(feed.page, position, STREAM_BATCH, types, subject)
        for event in page.events:
            data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            yield f"id: {int(event['sequence'])}\ndata: {data}\n\n".encode()
        position = page.next_after
        now = time.monotonic()
        if page.events:
            last_write = now
        if len(page.events) == STREAM_BATCH:
            continue  # more is waiting: read on without a pause
        if now - last_write >= heartbeat:
            yield b": keep-alive\n\n"
            last_write = now
        wait = min(heartbeat - (now - last_write), longest - (now - started))
        if wait > 0:
            await hub.wait_async(position, wait)


@router.get("/asyncapi.json", **answers(JsonDocument))
def asyncapi(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """An AsyncAPI 3.0 document: the pull feed, the SSE stream and webhooks."""
    return asyncapi_document(str(request.base_url).rstrip("/"), settings.public_url)
