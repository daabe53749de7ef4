"""What a process measures of itself for /metrics: requests, commands, projection batches,
webhook deliveries and the process (prometheus-client).

Each process counts its own. With `PROMETHEUS_MULTIPROC_DIR` set (as `minqing serve
--workers N` does) the client keeps the values in files in that directory, and any process
that answers a scrape adds up everyone's (api/metrics.py); without it they live in memory and
the answering process is the only one.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    multiprocess,
)
from prometheus_client import disable_created_metrics as _disable_created_metrics

# The `_created` series double every counter and histogram for a value nobody graphs.
_disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Fixed at import, as prometheus-client decides where values live at its own import.
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))

# This process's instruments (in single-process mode the scrape reads them from here).
REGISTRY = CollectorRegistry(auto_describe=True)

# From a quick read to the slowest command under contention (a few seconds).
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUEST_SECONDS = Histogram(
    "minqing_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
COMMANDS = Counter(
    "minqing_commands",
    "Commands (POST, PUT, PATCH, DELETE) by type (the route's name) and outcome.",
    ["command", "outcome"],
    registry=REGISTRY,
)
PROJECTION_BATCH_SECONDS = Histogram(
    "minqing_projection_batch_duration_seconds",
    "Time to apply one batch of events to a read model and move its position.",
    ["projection"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
WEBHOOK_DELIVERY_SECONDS = Histogram(
    "minqing_webhook_delivery_duration_seconds",
    "Time of one webhook delivery attempt, from sending to the receiver's answer.",
    ["outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0),
    registry=REGISTRY,
)
WEBHOOK_ATTEMPTS = Counter(
    "minqing_webhook_delivery_attempts",
    "Webhook delivery attempts by outcome (delivered, failed, gone).",
    ["outcome"],
    registry=REGISTRY,
)


def command_outcome(status: int) -> str:
    """A command's outcome in a word, from its HTTP status."""
    if status < 400:
        return "done"
    return {
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        412: "conflict",
        422: "invalid",
        429: "limited",
    }.get(status, "refused" if status < 500 else "error")


# -- process metrics under several processes ------------------------------------------------
# prometheus-client's ProcessCollector reads the process that answers the scrape only; under
# `--workers N` each process copies its own figures into gauges kept per pid instead.
_PROCESS_GAUGES: dict[str, Gauge] = {}
_PROCESS_EVERY_SECONDS = 5.0
_process_read_at = 0.0


def _gauge(name: str, documentation: str) -> Gauge:
    if name not in _PROCESS_GAUGES:
        _PROCESS_GAUGES[name] = Gauge(
            name, documentation, registry=None, multiprocess_mode="liveall"
        )
    return _PROCESS_GAUGES[name]


def refresh_process_metrics(*, force: bool = False) -> None:
    """Copy this process's CPU, memory, file descriptors and start time into the shared
    gauges (multiprocess mode only; at most every few seconds unless `force`)."""
    global _process_read_at
    if not MULTIPROCESS:
        return
    now = time.monotonic()
    if not force and now - _process_read_at < _PROCESS_EVERY_SECONDS:
        return
    _process_read_at = now
    for family in ProcessCollector(registry=None).collect():
        for sample in family.samples:
            _gauge(sample.name, family.documentation).set(sample.value)


def process_exiting() -> None:
    """Drop this process's per-pid gauges from the shared directory (multiprocess mode)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
