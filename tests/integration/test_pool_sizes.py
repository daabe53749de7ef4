"""A process's PostgreSQL pool: the sizes MINQING_POSTGRES_POOL_SIZE / _MAX_OVERFLOW set,
and connections above the pool's size closed again once idle. Counted in pg_stat_activity
on a database only the application under test uses."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from adapters import pgpool
from adapters.store import Pool, event_store_env
from application.bootstrap import SERVER_POOL, WORKER_POOL, open_minqing
from application.minqing import Minqing
from application.settings import Settings
from tests.conftest import create_database, drop_database
from tests.integration.outage_support import wait_until


@pytest.fixture
def pg_url(postgres_admin: str) -> Iterator[str]:
    url = create_database(postgres_admin)
    try:
        yield url
    finally:
        drop_database(postgres_admin, url)


def connections(admin: str, url: str) -> int:
    with psycopg.connect(admin) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (url.rsplit("/", 1)[1],)
        ).fetchone()
    return int(row[0]) if row else 0


def busy(app: Minqing, threads: int, admin: str, url: str) -> int:
    """Run `threads` transactions at once, each holding its connection a moment; the most
    connections seen meanwhile."""
    seen = 0
    done = threading.Event()

    def hold(_: int) -> None:
        with app.db.transaction() as cur:
            cur.execute("SELECT pg_sleep(0.8)")

    def watch() -> None:
        nonlocal seen
        while not done.is_set():
            seen = max(seen, connections(admin, url))
            done.wait(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(hold, range(threads)))
    finally:
        done.set()
        watcher.join()
    return seen


def test_the_settings_size_the_pool(pg_url: str, postgres_admin: str) -> None:
    settings = Settings(
        database_url=pg_url,
        master_key=base64.b64encode(os.urandom(32)).decode(),
        postgres_pool_size=3,
        postgres_max_overflow=1,
    )
    app = open_minqing(settings, pool=SERVER_POOL)
    try:
        wait_until(lambda: connections(postgres_admin, pg_url) == 3, what="3 kept open")
        assert busy(app, 8, postgres_admin, pg_url) <= 4  # 3 + 1, the others wait their turn
    finally:
        app.close()
    wait_until(lambda: connections(postgres_admin, pg_url) == 0, what="all closed")


def test_a_worker_keeps_one_connection_and_opens_at_most_three(
    pg_url: str, postgres_admin: str
) -> None:
    settings = Settings(database_url=pg_url, master_key=base64.b64encode(os.urandom(32)).decode())
    app = open_minqing(settings, pool=WORKER_POOL)
    try:
        assert busy(app, 8, postgres_admin, pg_url) <= 3
    finally:
        app.close()


def test_connections_above_the_pool_size_close_once_idle(
    pg_url: str, postgres_admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # psycopg closes one idle connection above the size per period: 30 s in service.
    monkeypatch.setattr(pgpool, "POOL_MAX_IDLE_SECONDS", 0.3)
    app = Minqing(event_store_env(pg_url, Pool(size=1, overflow=5)), master_key=os.urandom(32))
    try:
        assert busy(app, 6, postgres_admin, pg_url) > 2  # grown past its size
        wait_until(lambda: connections(postgres_admin, pg_url) == 1, what="back to the size")
    finally:
        app.close()
