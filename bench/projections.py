"""Projection lag under steady load, and full rebuild rate against a plain table scan, on
PostgreSQL.

Creates a fresh PostgreSQL database, a principal (staff + grid leader) and its token through
the CLI, and loads N real domain events in-process (concerns raised and referred, as
bench/feed.py does). Then:

- **rebuild**: every read model of projections/registry.py is rebuilt from position zero
  into fresh tables and swapped in by `minqing projections rebuild`, all in one pass over
  the log (the CLI reports the events each read model applied and the pass's time), then
  each read model on its own (`minqing projections rebuild NAME`); and in the same run one
  psycopg connection scans the events table by notification_id in batches of 500: the
  ceiling. It prints log positions per second for all of them together and for each alone,
  the scan's rows per second and the ratio.
- **lag**: the real server (`minqing serve`, embedded workers off) and `minqing worker
  projections` as its own process, as in production. After the worker has caught up with the
  load, commands arrive at a steady rate (default 100/s, open loop: a command is sent on
  schedule whether or not the earlier ones have answered) from a pool of HTTP clients:
  `POST /api/v1/concerns` and `POST /api/v1/concerns/{id}/refer` alternately. Each command's
  response carries the log `position` of its last event. An observer connection reads the
  concern list's tracked position every 2 ms; the concern list's rows and its position are
  committed in one transaction, so a command is visible in the list from the first reading
  at or past its position. Lag = that moment − the response's arrival (the commit happened
  before the response, so this slightly understates it) and − the request's sending (which
  overstates it); both are printed as p50/p99.

Figures only; nothing is asserted. The database is dropped at the end.

    .venv/bin/python bench/projections.py
    .venv/bin/python bench/projections.py --events 20000 --seconds 10

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI).
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import psycopg
from common import (
    LOAD_BATCH,
    Loader,
    MinqingProcess,
    Postgres,
    Server,
    add_principal,
    cli,
    minqing_env,
    percentile,
)
from feed import scan_table

TARGET_LAG_P99_MS = 200.0
TARGET_REBUILD_EVENTS_PER_SECOND = 10_000.0
MAX_EVENTS = 1_000_000
OBSERVER_INTERVAL = 0.002
CATCH_UP_TIMEOUT = 900.0
WATCHED = "concern_list"
# Rebuilds go through the CLI, as an operator runs them; the observer reads the positions
# table with plain psycopg.
POSITIONS_TABLE = "minqing_projection_positions"
REBUILT = re.compile(r"rebuilt (\S+): (\d+) events to position (\d+)$", re.MULTILINE)
REBUILT_ONE = re.compile(r"rebuilt (\S+): (\d+) events to position (\d+) in ([\d.]+) s")
ONE_PASS = re.compile(r"rebuilt (\d+) read models in one pass: (\d+) log positions in ([\d.]+) s")
RAISE = {
    "title": "东侧小路路灯坏了两周",
    "description": "5号楼东侧小路的路灯已经两周不亮，老人晚上出行不便。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


# --- rebuild -----------------------------------------------------------------------------


def measure_rebuild(env: dict[str, str], log_events: int) -> tuple[list[str], float]:
    """`minqing projections rebuild` (every read model in one pass), then `… rebuild NAME` for
    each read model on its own: a line each, and the one pass's rate (log positions ÷ its
    time)."""
    output = cli(env, "projections", "rebuild")
    passed = ONE_PASS.search(output)
    if passed is None:
        raise SystemExit(f"bench: no rebuild reported by the CLI:\n{output}")
    took = float(passed.group(3))
    rate = log_events / took if took else 0.0
    lines = [
        f"  one pass over {int(passed.group(1))} read models: {log_events} log positions in "
        f"{took:6.2f} s: {rate:9.0f} events/s"
    ]
    for name, _, _ in REBUILT.findall(output):
        alone = REBUILT_ONE.search(cli(env, "projections", "rebuild", name))
        if alone is None:
            raise SystemExit(f"bench: no rebuild of {name} reported by the CLI")
        seconds = float(alone.group(4))
        lines.append(
            f"  {name:<18} alone: {int(alone.group(2)):>7} of its events, {log_events} log "
            f"positions in {seconds:6.2f} s: {log_events / seconds:9.0f} events/s"
        )
    return lines, rate


# --- lag -----------------------------------------------------------------------------------


class Observer:
    """Reads the watched projection's position every few ms; says when a position was
    first seen."""

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(url, autocommit=True)
        self._samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-observer", daemon=True)

    def position(self) -> int:
        row = self._conn.execute(
            f"SELECT position FROM {POSITIONS_TABLE} WHERE name = %s",  # noqa: S608
            (WATCHED,),
            prepare=True,
        ).fetchone()
        return int(row[0]) if row else 0

    def _run(self) -> None:
        last = -1
        while not self._stop.is_set():
            now = time.perf_counter()
            position = self.position()
            if position != last:
                self._samples.append((now, position))
                last = position
            time.sleep(OBSERVER_INTERVAL)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._conn.close()

    def first_seen(self, position: int) -> float | None:
        """When the projection was first seen at or past `position`."""
        for at, seen in self._samples:
            if seen >= position:
                return at
        return None


@dataclass
class Sent:
    sent: float
    answered: float
    position: int
    error: str | None = None


def drive(base_url: str, token: str, rate: float, seconds: float, clients: int) -> list[Sent]:
    """Send commands on a fixed schedule (open loop); what each one got back, and when."""
    headers = {"Authorization": f"Bearer {token}"}
    local = threading.local()
    raised: list[str] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        c: httpx.Client = local.client
        return c

    def command(n: int) -> Sent:
        with lock:
            target = raised.pop() if n % 2 and raised else None
        sent = time.perf_counter()
        if target is None:
            r = client().post("/api/v1/concerns", json=RAISE)
        else:
            r = client().post(f"/api/v1/concerns/{target}/refer", json={})
        answered = time.perf_counter()
        if r.status_code not in (200, 201):
            return Sent(sent, answered, 0, f"HTTP {r.status_code}: {r.text[:120]}")
        body = r.json()
        if target is None:
            with lock:
                raised.append(body["id"])
        return Sent(sent, answered, int(body["position"]))

    total = int(rate * seconds)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = []
        for n in range(total):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(command, n))
        return [f.result() for f in futures]


def wait_caught_up(observer: Observer, head: int, worker: MinqingProcess) -> float:
    began = time.perf_counter()
    while observer.position() < head:
        if not worker.running():
            worker.fail("the projection worker exited while catching up")
        if time.perf_counter() - began > CATCH_UP_TIMEOUT:
            worker.fail(f"the projection worker did not catch up in {CATCH_UP_TIMEOUT:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - began


def ms(values: list[float], q: float) -> float:
    return percentile(sorted(values), q) * 1000


# --- report --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events to load (100000)")
    parser.add_argument("--rate", type=float, default=100.0, help="commands per second (100)")
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration (30)")
    parser.add_argument("--clients", type=int, default=16, help="HTTP client threads (16)")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    if not 2 <= args.events <= MAX_EVENTS or args.events % 2:
        parser.error(f"--events must be even and in 2..{MAX_EVENTS}")
    if not 0 < args.rate <= 2000 or not 0 < args.seconds <= 600:
        parser.error("--rate must be in (0, 2000] and --seconds in (0, 600]")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg-host must be a loopback address")

    pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"minqing_bench_{uuid.uuid4().hex[:12]}"
    print(
        f"bench: PostgreSQL {pg.server_version()} on {pg.host}:{pg.port}, database {dbname}, "
        f"{args.events} events; then {args.rate:.0f} commands/s for {args.seconds:.0f} s"
    )
    problems: list[str] = []
    pg.create_database(dbname)
    try:
        env = minqing_env(pg, dbname)
        env["MINQING_EMBEDDED_WORKERS"] = "false"
        cli(env, "db", "init")
        token = add_principal(env, "bench", ["staff", "grid_leader"])
        loader = Loader(env, "bench")
        try:
            seconds = loader.write(args.events)
            print(
                f"loaded {args.events} events ({args.events // 2} concerns raised + referred "
                f"in-process, {LOAD_BATCH} concerns per save) in {seconds:.1f} s"
            )
            head = int(loader.app.recorder.max_notification_id() or 0)
        finally:
            loader.close()
        scan = scan_table(pg.url(dbname), 500, args.events)
        lines, rebuild_rate = measure_rebuild(env, head)
        print("rebuild (`minqing projections rebuild`: every read model from zero, swapped in):")
        print("\n".join(lines))
        print("  " + scan.line("rows"))

        server = Server(env)
        worker = MinqingProcess(env, ["worker", "projections"])
        observer = Observer(pg.url(dbname))
        try:
            server.wait_ready()
            caught = wait_caught_up(observer, head, worker)
            print(f"lag: the worker was at the head {caught:.1f} s after it started")
            observer.start()
            results = drive(server.base_url, token, args.rate, args.seconds, args.clients)
            last = max((r.position for r in results), default=0)
            deadline = time.perf_counter() + 30
            while observer.position() < last and time.perf_counter() < deadline:
                time.sleep(0.05)
            time.sleep(0.05)
        finally:
            observer.stop()
            worker.stop()
            server.stop()
        failed = [r for r in results if r.error]
        from_response: list[float] = []
        from_request: list[float] = []
        unseen = 0
        for r in results:
            if r.error:
                continue
            seen = observer.first_seen(r.position)
            if seen is None:
                unseen += 1
                continue
            from_response.append(max(0.0, seen - r.answered))
            from_request.append(seen - r.sent)
        sent_seconds = results[-1].sent - results[0].sent if len(results) > 1 else 0.0
        achieved = (len(results) - 1) / sent_seconds if sent_seconds else 0.0
        print(
            f"  {len(results)} commands sent at {achieved:.1f}/s, {len(failed)} failed, "
            f"{unseen} never seen in the list"
        )
        print(
            f"  lag after the response   p50 {ms(from_response, 50):7.1f} ms  "
            f"p99 {ms(from_response, 99):7.1f} ms  max {ms(from_response, 100):7.1f} ms"
        )
        print(
            f"  lag after the request    p50 {ms(from_request, 50):7.1f} ms  "
            f"p99 {ms(from_request, 99):7.1f} ms  max {ms(from_request, 100):7.1f} ms"
        )
        problems += [f"command failed: {r.error}" for r in failed[:5]]
        if unseen:
            problems.append(f"{unseen} commands never became visible")
    finally:
        pg.drop_database(dbname)

    ratio = rebuild_rate / scan.rate if scan.rate else 0.0
    print("summary:")
    print(f"  rebuild, all read models  {rebuild_rate:9.0f} events/s")
    print(f"  scan (ceiling)            {scan.rate:9.0f} rows/s")
    print(f"  ratio rebuild ÷ scan      {ratio:9.3f}")
    lag_met = ms(from_response, 99) <= TARGET_LAG_P99_MS
    print(
        f"target lag p99 ≤ {TARGET_LAG_P99_MS:.0f} ms met: {'yes' if lag_met else 'no'}"
        f"; target rebuild ≥ {TARGET_REBUILD_EVENTS_PER_SECOND:.0f} events/s met: "
        f"{'yes' if rebuild_rate >= TARGET_REBUILD_EVENTS_PER_SECOND else 'no'}"
    )
    for p in problems:
        print(f"  problem: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
