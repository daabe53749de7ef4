"""Command throughput against the durable-commit ceiling, on PostgreSQL.

Starts the real server (`minqing serve`) on a free loopback port against a fresh PostgreSQL
database, creates a principal (staff + grid_leader) and a token through the CLI, then drives
`POST /api/v1/concerns` followed by `POST /api/v1/concerns/{id}/refer` from N concurrent
keep-alive HTTP clients for a fixed time. In the same run it measures the ceiling: plain
single-row INSERT + COMMIT into a scratch table from N psycopg connections for the same time.
It prints commands/s, p50/p99 latency, the ceiling in commits/s and their ratio, drops the
database and stops by itself. Figures only; nothing here is asserted.

    .venv/bin/python bench/commands.py --seconds 20
    .venv/bin/python bench/commands.py --ceiling-only --seconds 5

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import psycopg

# `X as X`: re-exported, since other benches import these from here too (bench/audit.py).
from common import Postgres as Postgres
from common import Server as Server
from common import add_principal, minqing_env
from common import cli as cli
from common import percentile as percentile

TARGET_RATIO = 0.20
TARGET_P99_MS = 100.0
# Upper bounds so that nothing here can run away.
MAX_SECONDS = 600.0
MAX_CLIENTS = 256
REQUEST_TIMEOUT = 30.0


@dataclass
class Tally:
    """What one client thread saw: latency of each successful operation, failures by kind."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def fail(self, kind: str) -> None:
        self.errors[kind] += 1


@dataclass(frozen=True)
class Figures:
    """The summary of one measured phase."""

    count: int
    elapsed: float
    p50_ms: float
    p99_ms: float
    errors: Counter[str]

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0


def summarise(tallies: Sequence[Tally], elapsed: float) -> Figures:
    latencies = sorted(x for t in tallies for x in t.latencies)
    errors: Counter[str] = Counter()
    for t in tallies:
        errors.update(t.errors)
    return Figures(
        count=len(latencies),
        elapsed=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=errors,
    )


def run_threads(clients: int, seconds: float, body: Callable[[float, Tally], None]) -> Figures:
    """Run `body(deadline, tally)` in `clients` threads that start together; time the lot."""
    tallies = [Tally() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    start_at: list[float] = []

    def worker(tally: Tally) -> None:
        barrier.wait()
        try:
            body(start_at[0] + seconds, tally)
        except Exception as exc:  # a broken client is reported, not hidden
            tally.fail(f"client stopped: {type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=worker, args=(t,), name=f"bench-{i}", daemon=True)
        for i, t in enumerate(tallies)
    ]
    for t in threads:
        t.start()
    start_at.append(time.monotonic())
    barrier.wait()
    for t in threads:
        t.join(seconds + REQUEST_TIMEOUT * 3)
    elapsed = time.monotonic() - start_at[0]
    figures = summarise(tallies, elapsed)
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        figures.errors[f"{stuck} client threads did not stop"] += stuck
    return figures


def measure_ceiling(pg: Postgres, dbname: str, clients: int, seconds: float) -> Figures:
    """Single-row INSERT + COMMIT from `clients` connections: the durable-commit ceiling."""
    url = pg.url(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ceiling")
        conn.execute(
            "CREATE TABLE bench_ceiling ("
            " id bigserial PRIMARY KEY,"
            " client integer NOT NULL,"
            " payload text NOT NULL,"
            " at timestamptz NOT NULL DEFAULT now())"
        )
    # About the size of a stored event: a few hundred bytes.
    payload = "x" * 400
    connections = [psycopg.connect(url) for _ in range(clients)]
    try:
        unclaimed = list(connections)
        lock = threading.Lock()

        def body(deadline: float, tally: Tally) -> None:
            with lock:
                conn = unclaimed.pop()
            client = conn.info.backend_pid
            while time.monotonic() < deadline:
                began = time.perf_counter()
                try:
                    conn.execute(
                        "INSERT INTO bench_ceiling (client, payload) VALUES (%s, %s)",
                        (client, payload),
                    )
                    conn.commit()
                except psycopg.Error as exc:
                    conn.rollback()
                    tally.fail(type(exc).__name__)
                    continue
                tally.latencies.append(time.perf_counter() - began)

        return run_threads(clients, seconds, body)
    finally:
        for conn in connections:
            conn.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_ceiling")


CONCERN = {
    "title": "东侧小路路灯坏了两周",
    "description": "5号楼东侧小路的路灯已经两周不亮，老人晚上出行不便。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def command_body(base_url: str, token: str) -> Callable[[float, Tally], None]:
    """One client's loop: raise a concern, refer it; both timed as commands."""
    headers = {"Authorization": f"Bearer {token}"}

    def body(deadline: float, tally: Tally) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                try:
                    raised = client.post("/api/v1/concerns", json=CONCERN)
                except httpx.HTTPError as exc:
                    tally.fail(f"raise: {type(exc).__name__}")
                    continue
                if raised.status_code != 201:
                    tally.fail(f"raise: HTTP {raised.status_code} {raised.text[:200]}")
                    continue
                tally.latencies.append(time.perf_counter() - began)
                concern_id = raised.json()["id"]
                began = time.perf_counter()
                try:
                    referred = client.post(f"/api/v1/concerns/{concern_id}/refer", json={})
                except httpx.HTTPError as exc:
                    tally.fail(f"refer: {type(exc).__name__}")
                    continue
                if referred.status_code != 200:
                    tally.fail(f"refer: HTTP {referred.status_code} {referred.text[:200]}")
                    continue
                tally.latencies.append(time.perf_counter() - began)

    return body


def measure_commands(
    pg: Postgres, dbname: str, clients: int, seconds: float, workers: int = 1
) -> Figures:
    """Start the server against `dbname`, make a principal and a token, drive commands."""
    env = minqing_env(pg, dbname)
    cli(env, "db", "init")
    token = add_principal(env, "bench", ["staff", "grid_leader"])

    server = Server(env, workers)
    try:
        server.wait_ready()
        # Half a second of commands before timing: a wrong body or token shows here, with
        # the server's answer, rather than as a rate of zero.
        warm = Tally()
        command_body(server.base_url, token)(time.monotonic() + 0.5, warm)
        if warm.errors or not warm.latencies:
            server.fail(f"warm-up failed: {dict(warm.errors) or 'no command completed'}")
        return run_threads(clients, seconds, command_body(server.base_url, token))
    finally:
        server.stop()


# --- report ----------------------------------------------------------------------------


def line(label: str, f: Figures, unit: str) -> str:
    return (
        f"{label:<30} {f.count:>8} in {f.elapsed:6.1f} s  {f.rate:9.1f} {unit}/s  "
        f"p50 {f.p50_ms:7.2f} ms  p99 {f.p99_ms:7.2f} ms"
    )


def report_errors(label: str, f: Figures) -> None:
    for kind, n in f.errors.most_common(10):
        print(f"  {label} error x{n}: {kind}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (default 20)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--ceiling-only", action="store_true", help="skip the API phase")
    parser.add_argument(
        "--server-workers", type=int, default=1, help="`minqing serve --workers` (default 1)"
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS:.0f}]")
    if not 0 < args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be in 1..{MAX_CLIENTS}")
    if not 0 < args.server_workers <= 16:
        parser.error("--server-workers must be in 1..16")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg-host must be a loopback address")

    pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"minqing_bench_{uuid.uuid4().hex[:12]}"
    print(
        f"bench: PostgreSQL {pg.server_version()} on {pg.host}:{pg.port}, database {dbname}, "
        f"{args.clients} clients, {args.seconds:g} s per phase"
    )
    pg.create_database(dbname)
    try:
        ceiling = measure_ceiling(pg, dbname, args.clients, args.seconds)
        commands = (
            None
            if args.ceiling_only
            else measure_commands(pg, dbname, args.clients, args.seconds, args.server_workers)
        )
    finally:
        pg.drop_database(dbname)

    print(line("durable-commit ceiling", ceiling, "commits"))
    report_errors("ceiling", ceiling)
    if commands is None:
        return 1 if ceiling.errors else 0
    print(line("commands (raise + refer)", commands, "commands"))
    report_errors("commands", commands)
    ratio = commands.rate / ceiling.rate if ceiling.rate else 0.0
    print(f"{'ratio commands/s ÷ ceiling':<30} {ratio:8.3f}  (target ≥ {TARGET_RATIO:.2f})")
    print(
        f"{'p99 command latency':<30} {commands.p99_ms:8.2f} ms  (target ≤ {TARGET_P99_MS:.0f} ms)"
    )
    meets = ratio >= TARGET_RATIO and commands.p99_ms <= TARGET_P99_MS
    print(f"targets met: {'yes' if meets else 'no'}")
    return 1 if commands.errors or ceiling.errors else 0


if __name__ == "__main__":
    sys.exit(main())
