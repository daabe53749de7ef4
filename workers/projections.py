"""`minqing worker projections`: feed the read models in a process of their own (the
production shape; `minqing serve` runs them in a thread with `MINQING_EMBEDDED_WORKERS`)."""

from __future__ import annotations

import logging

from adapters.availability import unavailable
from application.settings import Settings
from projections import registry
from projections.runner import ProjectionRunner, ProjectionStatus
from workers.process import run_service

log = logging.getLogger("minqing.projections")


def run_worker(settings: Settings, batch_size: int) -> int:
    """Feed every read model until SIGTERM/SIGINT (standby for those another process
    leads), waiting for the database while it is unavailable."""

    def started(runner: ProjectionRunner) -> None:
        names = ", ".join(p.name for p in runner.projections)
        how = "LISTEN/NOTIFY; standby while another leads" if runner.leader_election else "polling"
        log.info("feeding %s on %s (%s)", names, runner.db.dialect, how)

    def stopped(runner: ProjectionRunner) -> None:
        # Log lines, not prints: under `minqing serve` this process shares the server's
        # stderr, where every line is one JSON object (api/feeder.py).
        for s in _final_status(runner):
            log.info("projection %s stopped at position %d", s.name, s.position)

    return run_service(
        "projection runner",
        settings,
        log,
        # Making the runner makes the read models' tables.
        lambda app, outage: ProjectionRunner(
            app, registry.all_projections(), batch_size=batch_size, outage=outage
        ),
        started=started,
        stopped=stopped,
    )


def _final_status(runner: ProjectionRunner) -> list[ProjectionStatus]:
    # During an outage the positions are unknown, and a stop must not wait for them.
    if runner.outage.down:
        return []
    try:
        return runner.status()
    except Exception as exc:
        if unavailable(exc):
            return []
        raise
