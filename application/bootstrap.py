"""Opening the application from settings (waiting for the database if need be), and the
first-start admin token."""

from __future__ import annotations

import logging
import os
import threading

from adapters.audit import install_guards
from adapters.keyring import load_master_key
from adapters.outage import Outage, patiently
from adapters.store import Pool, event_store_env, probe
from application.minqing import Clock, Minqing
from application.settings import Settings
from domain.vocabulary import Role

# PostgreSQL connections per process, from the threads that use them (README: "Connections").
# `minqing serve`: its request threads (FastAPI's pool of 40, plus the embedded workers' loops)
# spend most of a request outside the database, and a small server is no faster with more
# connections at once, so 20 at most; 2 stay open while idle.
SERVER_POOL = Pool(size=2, overflow=18)
# A worker (or a command): its loop and helpers (the webhook dispatcher's deliveries) take
# turns on 1 connection kept open and 2 more under load; its own session (LISTEN, leader
# locks) is outside the pool.
WORKER_POOL = Pool(size=1, overflow=2)


def pool_for(settings: Settings, default: Pool) -> Pool:
    """`default`, with MINQING_POSTGRES_POOL_SIZE / MINQING_POSTGRES_MAX_OVERFLOW if set."""
    size, overflow = settings.postgres_pool_size, settings.postgres_max_overflow
    return Pool(
        size=default.size if size is None else size,
        overflow=default.overflow if overflow is None else overflow,
    )


def open_minqing(
    settings: Settings,
    *,
    first_start: bool = False,
    clock: Clock | None = None,
    pool: Pool = WORKER_POOL,
) -> Minqing:
    """The Minqing application on the configured store (tables created if missing); with
    `clock`, a test's clock instead of the wall clock; `pool` sized for the process."""
    key = load_master_key(settings.master_key, settings.master_key_file, create=settings.embedded)
    app = Minqing(
        event_store_env(settings.database_url, pool_for(settings, pool)),
        master_key=key,
        clock=clock,
        timezone=settings.timezone,
        extension_cap=settings.extension_cap,
        suspension_max_days=settings.suspension_max_days,
        working_periods=settings.periods,
    )
    try:
        install_guards(app.db)  # audit tables; on PostgreSQL, the append-only triggers
        if first_start and settings.embedded:
            ensure_admin(app, settings)
    except BaseException:
        app.close()  # its pool, before an attempt again makes another
        raise
    return app


def open_when_ready(
    settings: Settings,
    stop: threading.Event,
    outage: Outage,
    *,
    first_start: bool = False,
    pool: Pool = WORKER_POOL,
) -> Minqing | None:
    """`open_minqing`, waiting while the database is unavailable (retried with backoff, the
    outage logged once on `outage`); None when `stop` is set first. Each attempt first
    makes one plain connection, which a refusing server fails at once, so `stop` is heeded
    promptly (the pool would wait for its own attempts)."""

    def attempt() -> Minqing:
        probe(settings.database_url)
        return open_minqing(settings, first_start=first_start, pool=pool)

    return patiently(attempt, stop, outage)


def ensure_admin(app: Minqing, settings: Settings) -> None:
    """On an empty embedded store, make an admin and write its token to a private file."""
    if app.accounts.count() > 0:
        return
    admin = app.accounts.add("admin", [Role.ADMIN, Role.STAFF])
    _, token = app.accounts.issue_token(admin.id, label="first start")
    path = settings.admin_token_file
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # var/: owner only
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    # The location only: a token must never appear in a log line. A warning, so that it
    # shows without any logging set up (the bare message) and in `minqing serve`'s JSON.
    logging.getLogger("minqing.bootstrap").warning(
        "minqing: created principal 'admin'; its token is in %s", path
    )
