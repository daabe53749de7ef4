"""The durable-commit ceiling of bench/commands.py: plain single-row INSERT + COMMIT loops
from N psycopg connections in threads of this process, on a scratch table. Not a benchmark
itself.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from common import Figures, Postgres, percentile

# A client thread that has not stopped this long after the deadline is reported as stuck.
JOIN_GRACE_SECONDS = 90.0


@dataclass
class Tally:
    """What one client thread saw: latency of each successful operation, failures by kind."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def fail(self, kind: str) -> None:
        self.errors[kind] += 1


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
        t.join(seconds + JOIN_GRACE_SECONDS)
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
