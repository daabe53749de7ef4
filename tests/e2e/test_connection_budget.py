"""The production shape of docker-compose.yml fits in 50 PostgreSQL connections.

As docker-compose runs it: `minqing db init`, then the API (`minqing serve` with
MINQING_EMBEDDED_WORKERS=false), `minqing worker projections|deadlines|webhooks|checkpoints`
and a standby projections worker, each a process of its own on one database. They go idle,
serve some requests (several at once), go idle again; `pg_stat_activity` then counts the
database's connections. A server of 100 connections must keep room for a second shape, the
tools and a rolling restart, so the budget is half of it (README: "Connections").
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import _free_port, create_database, drop_database
from tests.integration.outage_support import wait_until

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 50
WORKERS = ("projections", "projections-standby", "deadlines", "webhooks", "checkpoints")
CONCERN = {
    "title": "楼道堆物",
    "description": "三楼楼道堆放杂物，影响通行。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


@pytest.fixture
def pg_url(postgres_admin: str) -> Iterator[str]:
    url = create_database(postgres_admin)
    try:
        yield url
    finally:
        drop_database(postgres_admin, url)


def cli(env: dict[str, str], *args: str) -> str:
    """Run one `minqing` command to the end; its standard output."""
    done = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def process(name: str, env: dict[str, str], log: Path, *args: str) -> Iterator[Path]:
    """`minqing ARGS` running as application `minqing-NAME`, its output in `log`."""
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env={**env, "PGAPPNAME": f"minqing-{name}"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def connections(admin: str, url: str) -> dict[str, int]:
    """The database's connections in pg_stat_activity, by application name."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin) as conn:
        rows = conn.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity"
            " WHERE datname = %s GROUP BY application_name",
            (name,),
        ).fetchall()
    return {str(app): int(n) for app, n in rows}


def test_the_production_shape_holds_at_most_50_connections(
    pg_url: str, postgres_admin: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": pg_url,
        "MINQING_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MINQING_AUDIT_SIGNING_KEY": base64.b64encode(
            Ed25519PrivateKey.generate().private_bytes_raw()
        ).decode(),
        "MINQING_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MINQING_EMBEDDED_WORKERS": "false",
        "MINQING_TRACK_RATE_LIMIT": "10000",
    }
    cli(env, "db", "init")
    cli(env, "users", "add", "admin", "--role", "admin", "--role", "staff")
    token = cli(env, "tokens", "issue", "admin").strip()
    with ExitStack() as stack:
        logs = {
            kind: stack.enter_context(
                process(kind, env, tmp_path / f"{kind}.log", "worker", kind.split("-")[0])
            )
            for kind in WORKERS
        }
        stack.enter_context(
            process(
                "api",
                env,
                tmp_path / "api.log",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            )
        )
        client = stack.enter_context(
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        )

        def serving() -> bool:
            try:
                return client.get("/readyz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(serving, what="the API answering")
        names = {f"minqing-{kind}" for kind in ["api", *WORKERS]}
        wait_until(
            lambda: names <= set(connections(postgres_admin, pg_url)),
            what="every process connected",
        )
        time.sleep(3)  # idle
        idle = connections(postgres_admin, pg_url)

        def raise_one(_: int) -> int:
            r = client.post("/api/v1/concerns", json=CONCERN)
            assert r.status_code == 201, r.text
            return int(r.json()["position"])

        with ThreadPoolExecutor(8) as pool:
            positions = list(pool.map(raise_one, range(40)))
            pages = list(
                pool.map(
                    lambda _: client.get(
                        "/api/v1/concerns", params={"min_position": max(positions)}
                    ),
                    range(16),
                )
            )
        assert all(p.status_code == 200 for p in pages)
        assert client.get("/metrics").status_code == 200
        time.sleep(3)  # idle again
        after = connections(postgres_admin, pg_url)

        failed = [kind for kind, log in logs.items() if "Traceback" in log.read_text()]
    shape = f"idle: {idle}; after the requests: {after}"
    print(shape)  # shown with -s: the figures README's "Connections" quotes
    assert sum(idle.values()) <= BUDGET, shape
    assert sum(after.values()) <= BUDGET, shape
    # Every process of the shape was counted (each holds at least one connection).
    assert names <= set(after), shape
    assert failed == [], "a worker logged a traceback"
