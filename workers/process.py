"""`minqing worker …`: one background service in the foreground of its own process.

Every worker starts the same way: SIGTERM and SIGINT stop it gracefully (the work in hand
is finished, from the very start: a stop while waiting for the database is graceful too),
it waits for the database while it is unavailable (retried with backoff, the outage logged
once), makes its service (which may make tables: the database may be gone again, so that
is waited out too), runs it until stopped, and closes the application.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable
from typing import TypeVar

from adapters import json_logs
from adapters.outage import Outage, patiently
from adapters.service import Service
from adapters.sessions import probe
from application.bootstrap import open_when_ready
from application.minqing import Minqing
from application.settings import Settings

S = TypeVar("S", bound=Service)


def run_service(
    name: str,
    settings: Settings,
    log: logging.Logger,
    make: Callable[[Minqing, Outage], S],
    *,
    started: Callable[[S], None] = lambda _: None,
    stopped: Callable[[S], None] = lambda _: None,
    stop: threading.Event | None = None,
) -> int:
    """Run the service `make(app, outage)` makes until SIGTERM/SIGINT (or `stop`);
    `started` and `stopped` say what it is doing, in the worker's log."""
    json_logs.configure()  # one JSON object per line, like `minqing serve`
    stop = stop or threading.Event()

    def request_stop(signum: int, _: object) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    outage = Outage(name, log)
    app = open_when_ready(settings, stop, outage)
    if app is None:
        log.info("%s stopped before the database answered", name)
        return 0
    service: S | None = None
    try:
        service = patiently(lambda: make(app, outage), stop, outage, lambda: probe(app.db))
        if service is None:
            log.info("%s stopped before the database answered", name)
            return 0
        started(service)
        # What start-up made lives as long as the process: kept out of the collector's
        # full collections, which otherwise walk it all (see api/main.py).
        gc.collect()
        gc.freeze()
        service.run(stop)
        stopped(service)
    finally:
        if service is not None:
            service.close()
        app.close()
    return 0
