"""The FastAPI application: it only collects the routers and makes the one Minqing instance."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from adapters import instruments
from api import errors, observe, openapi, security, ui
from api.deps import RateLimiter
from api.limits import BodyLimits
from api.params import checked_params
from api.routes import (
    appeals,
    attachments,
    audit,
    calendar,
    commitments,
    concern_list,
    concerns,
    cosigners,
    events,
    extensions,
    front,
    hotspots,
    ledger,
    libraries,
    meetings,
    members,
    open311,
    ops,
    places,
    public_board,
    residents,
    scorecards,
    service,
    similar,
    supervision,
    suspensions,
    time_limits,
    track,
    visits,
    voids,
    webhooks,
)
from api.token_cache import TokenCache
from application.bootstrap import SERVER_POOL, open_minqing
from application.minqing import Clock
from application.settings import Settings
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from workers.checkpoints import start_checkpoint_thread
from workers.deadlines import embedded_watcher
from workers.webhooks import embedded_dispatcher

# Set by `minqing serve` (api/cli.py): freeze what start-up made (see the lifespan).
FREEZE_ENV = "MINQING_GC_FREEZE"


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The ASGI app; the Minqing application is opened in the lifespan handler (with
    `clock`, a test's, instead of the wall clock)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.minqing = open_minqing(settings, first_start=True, clock=clock, pool=SERVER_POOL)
        app.state.rate_limiter = RateLimiter(settings.track_rate_limit)
        app.state.tokens = TokenCache(
            app.state.minqing.accounts.authenticate, settings.token_cache_seconds
        )
        # The runner also creates the read models' tables, so it is made even when the
        # projections run in `minqing worker projections` instead of in this process.
        app.state.projections = ProjectionRunner(app.state.minqing, all_projections())
        # `minqing serve` may feed them from a child process instead (api/feeder.py).
        if settings.embedded_workers and settings.embedded_projections == "thread":
            app.state.projections.start()
        # Made in any case: it creates the webhook tables and serves /api/v1/webhooks.
        app.state.webhook_dispatcher = embedded_dispatcher(app.state.minqing, settings)
        app.state.webhooks = app.state.webhook_dispatcher.webhooks
        # A route that queued rows wakes the dispatcher (if it runs here; else its poll).
        app.state.wake_dispatcher = app.state.webhook_dispatcher.kick
        if settings.embedded_workers:
            app.state.webhook_dispatcher.start()
        # Reads the concern list, so it starts after the runner has made the tables.
        app.state.deadline_watcher = None
        if settings.embedded_workers:
            app.state.deadline_watcher = embedded_watcher(app.state.minqing, settings)
            app.state.deadline_watcher.start()
        # The daily signed checkpoint; in production `minqing worker checkpoints` runs it.
        stop_checkpoints = (
            start_checkpoint_thread(app.state.minqing, settings)
            if settings.embedded_workers
            else None
        )
        # Under `minqing serve` what start-up made (modules, FastAPI's and pydantic's
        # schemas, the pools) lives as long as the process: out of the collector's sight, a
        # full collection no longer walks it, which under load paused every request for up
        # to 300 ms (issue 12: the command bench's p99; 6 ms frozen). Not in a test's
        # process, whose apps come and go: frozen, their cycles would never be collected.
        if os.environ.get(FREEZE_ENV) == "1":
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if stop_checkpoints is not None:
                stop_checkpoints()
            if app.state.deadline_watcher is not None:
                app.state.deadline_watcher.stop()
            app.state.webhook_dispatcher.stop()
            app.state.projections.stop()
            app.state.minqing.close()
            instruments.process_exiting()

    app = FastAPI(
        title="Minqing 民情",
        version="1",
        summary="Residents' concerns, from the household visit to the achievement library.",
        lifespan=lifespan,
        # The text policy for every query and path parameter of every route (api/params.py).
        dependencies=[Depends(checked_params)],
    )
    errors.install(app)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes)
    for router in (
        similar.router,  # before concerns.router, whose /{concern_ref} would take "similar"
        concerns.router,
        cosigners.router,
        concern_list.router,
        members.router,
        meetings.router,
        track.router,
        ops.router,
        events.router,
        open311.router,
        audit.router,
        residents.router,
        webhooks.router,
        visits.router,
        libraries.router,
        libraries.public_router,
        members.points_router,
        attachments.router,
        attachments.public_router,
        ledger.router,
        front.router,
        calendar.router,
        time_limits.router,
        commitments.router,
        public_board.router,
        service.router,
        places.router,
        hotspots.router,
        places.grids_router,
        supervision.router,
        extensions.router,
        appeals.router,
        scorecards.router,
        suspensions.router,
        voids.router,
    ):
        app.include_router(router)
    ui.install(app)  # the web UI: /ui/ (api/ui)
    openapi.install(app)
    security.install(app, settings)  # headers, trusted proxies, offline /docs (api/security)
    app.add_middleware(observe.Observe)  # outermost: durations and outcomes for /metrics
    return app
