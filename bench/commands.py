"""Command throughput on PostgreSQL: the durable-commit ceiling, a minimal peer, and Minqing
embedded and in the production shape, in one run.

Four phases, each on its own fresh PostgreSQL database of the same server, each for the same
time with the same number of clients (16 by default):

1. ceiling: plain single-row INSERT + COMMIT loops from N psycopg connections;
2. peer: a minimal FastAPI + eventsourcing service written the obvious way (bench/peer.py,
   eventsourcing's PostgreSQL module with default settings), served by uvicorn in its own
   process; `POST /concerns`;
3. embedded: `minqing serve` with default settings (the read models in a thread of the API
   process, as `make run`); `POST /api/v1/concerns`;
4. production: `minqing serve` with MINQING_EMBEDDED_WORKERS=false and `minqing worker
   projections` as a separate process; `POST /api/v1/concerns`.

The HTTP phases are driven by wrk (bench/wrk.py, bench/commands.lua) with N keep-alive
connections, each request one command. It prints commands/s, p50/p99 latency, the ratio to
the ceiling, errors and the server's CPU per phase, and whether the targets are met; drops its
databases and stops by itself. Figures only; nothing here is asserted. The exit status is
non-zero only if requests or inserts failed.

    .venv/bin/python bench/commands.py --seconds 20
    .venv/bin/python bench/commands.py --phases ceiling,production --seconds 10

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI), and wrk
(Debian package `wrk`: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import psycopg
from common import (
    Figures,
    HttpProcess,
    MinqingProcess,
    Postgres,
    Process,
    Server,
    add_principal,
    cli,
    free_port,
    minqing_env,
    percentile,
)
from wrk import MIXES, Load, drive, wrk_binary, wrk_version

TARGET_PRODUCTION_RATIO = 0.20
MOONSHOT_PRODUCTION_RATIO = 0.35
TARGET_P99_MS = 100.0
PHASES = ("ceiling", "peer", "embedded", "production")
LABELS = {
    "ceiling": "ceiling (INSERT+COMMIT)",
    "peer": "peer (FastAPI+eventsourcing)",
    "embedded": "Minqing embedded",
    "production": "Minqing production shape",
}
# Upper bounds so that nothing here can run away.
MAX_SECONDS = 600.0
MAX_CLIENTS = 256
REQUEST_TIMEOUT = 30.0
WORKER_START_TIMEOUT = 60.0

CONCERN: dict[str, object] = {
    "title": "东侧小路路灯坏了两周",
    "description": "5号楼东侧小路的路灯已经两周不亮，老人晚上出行不便。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


# --- the ceiling: psycopg threads in this process ---------------------------------------


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


# --- the HTTP phases: wrk against a server process ----------------------------------------


@dataclass(frozen=True)
class Phase:
    """One measured phase: its figures and what the server side cost."""

    name: str
    figures: Figures
    load_before: float
    cpu: str = "-"
    lag: str = "-"


@dataclass(frozen=True)
class Options:
    clients: int
    seconds: float
    warmup: float
    mix: str
    server_workers: int


def check_one(server: HttpProcess, processes: Sequence[Process], load: Load) -> None:
    """One command before timing: a wrong body or token shows here, with the server's answer,
    rather than as a rate of zero."""
    headers = {"Authorization": f"Bearer {load.token}"} if load.token else {}
    try:
        answer = httpx.post(load.url, json=load.body, headers=headers, timeout=REQUEST_TIMEOUT)
    except httpx.HTTPError as exc:
        why = f"check request failed: {type(exc).__name__}: {exc}"
    else:
        if answer.status_code == 201:
            return
        why = f"check request: HTTP {answer.status_code} {answer.text[:300]}"
    for p in processes:
        p.stop()
    server.fail(why)


def cpu_share(processes: Sequence[Process], measure: Callable[[], Figures]) -> tuple[Figures, str]:
    """Run `measure`; its figures and each process's CPU over that time (100 % = one core)."""
    before = [p.cpu_seconds() for p in processes]
    began = time.monotonic()
    figures = measure()
    elapsed = time.monotonic() - began
    shares = [(p.cpu_seconds() - b) / elapsed * 100 for p, b in zip(processes, before, strict=True)]
    return figures, " + ".join(f"{s:.0f}%" for s in shares)


def load_server(
    server: HttpProcess, others: Sequence[Process], load: Load, options: Options
) -> tuple[Figures, str]:
    """Wait for the server, check one command, warm up, then drive it with wrk for the
    phase's time; the figures and the CPU the server (and `others`) used meanwhile."""
    processes = [server, *others]
    server.wait_ready()
    check_one(server, others, load)
    if options.warmup > 0:
        warm = drive(load, options.clients, options.warmup)
        if warm.errors or not warm.count:
            for p in others:
                p.stop()
            server.fail(f"warm-up failed: {dict(warm.errors) or 'no command completed'}")
    return cpu_share(processes, lambda: drive(load, options.clients, options.seconds))


def measure_peer(pg: Postgres, dbname: str, options: Options) -> tuple[Figures, str]:
    """bench/peer.py under uvicorn (its own process) against `dbname`: `POST /concerns`."""
    env = dict(os.environ)
    env.update(
        PERSISTENCE_MODULE="eventsourcing.postgres",
        POSTGRES_DBNAME=dbname,
        POSTGRES_HOST=pg.host,
        POSTGRES_PORT=str(pg.port),
        POSTGRES_USER=pg.user,
        POSTGRES_PASSWORD="",  # trust auth; eventsourcing requires the variable
    )
    port = free_port()
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", bench_dir, "peer:app"]
    server = HttpProcess(env, [*argv, "--host", "127.0.0.1", "--port", str(port)], port)
    try:
        return load_server(server, [], Load(f"{server.base_url}/concerns", CONCERN), options)
    finally:
        server.stop()


def projections_lag(env: dict[str, str]) -> str:
    """The largest lag of a read model behind the log's head, from `minqing projections
    status`, right after the load stopped."""
    lags = [
        int(line.split()[-1])
        for line in cli(env, "projections", "status").splitlines()[1:]
        if line.split() and line.split()[-1].isdigit()
    ]
    return str(max(lags)) if lags else "?"


def wait_leading(worker: MinqingProcess) -> MinqingProcess:
    """Wait until the projections worker says it leads (it may wait for a connection or a
    lock first): a worker that is not feeding yet would flatter the production shape."""
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while "leading projection" not in worker.output():
        if not worker.running():
            worker.fail("the projections worker exited while starting")
        if time.monotonic() > deadline:
            worker.fail(f"the projections worker did not lead after {WORKER_START_TIMEOUT:.0f} s")
        time.sleep(0.2)
    return worker


def measure_minqing(
    pg: Postgres, dbname: str, options: Options, production: bool
) -> tuple[Figures, str, str]:
    """`minqing serve` against `dbname` (production: embedded workers off and `minqing worker
    projections` beside it), a staff + grid_leader token; `POST /api/v1/concerns`."""
    env = minqing_env(pg, dbname)
    if production:
        env["MINQING_EMBEDDED_WORKERS"] = "false"
    else:
        env.pop("MINQING_EMBEDDED_WORKERS", None)  # the default: on
    cli(env, "db", "init")
    token = add_principal(env, "bench", ["staff", "grid_leader"])
    server = Server(env, options.server_workers)
    others: list[Process] = []
    try:
        if production:
            others.append(wait_leading(MinqingProcess(env, ["worker", "projections"])))
        load = Load(f"{server.base_url}/api/v1/concerns", CONCERN, token, options.mix)
        figures, cpu = load_server(server, others, load, options)
        lag = projections_lag(env)
    finally:
        for p in others:
            p.stop()
        server.stop()
    return figures, cpu, lag


def run_phase(pg: Postgres, name: str, options: Options) -> Phase:
    """`name` on a fresh database of its own, dropped afterwards."""
    dbname = f"minqing_bench_{uuid.uuid4().hex[:12]}"
    load_before = os.getloadavg()[0]
    print(f"  {LABELS[name]}: database {dbname}, load {load_before:.2f} …", flush=True)
    pg.create_database(dbname)
    try:
        if name == "ceiling":
            return Phase(
                name, measure_ceiling(pg, dbname, options.clients, options.seconds), load_before
            )
        if name == "peer":
            figures, cpu = measure_peer(pg, dbname, options)
            return Phase(name, figures, load_before, cpu)
        figures, cpu, lag = measure_minqing(pg, dbname, options, production=name == "production")
        return Phase(name, figures, load_before, cpu, lag)
    finally:
        pg.drop_database(dbname)


# --- report ----------------------------------------------------------------------------


def report(phases: dict[str, Phase], mix: str) -> None:
    """The table, the errors of each phase, and the targets as met or missed."""
    ceiling = phases["ceiling"].figures.rate if "ceiling" in phases else 0.0
    print()
    print(
        f"{'phase':<30} {'commands/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'× ceiling':>9} "
        f"{'errors':>7}  {'load':>5}  {'server CPU':<12} {'read-model lag':>14}"
    )
    for name, p in phases.items():
        f = p.figures
        ratio = f"{f.rate / ceiling:9.3f}" if ceiling else f"{'-':>9}"
        print(
            f"{LABELS[name]:<30} {f.rate:10.1f} {f.p50_ms:8.2f} {f.p99_ms:8.2f} {ratio} "
            f"{sum(f.errors.values()):>7}  {p.load_before:5.2f}  {p.cpu:<12} {p.lag:>14}"
        )
    print(
        "(ceiling: commits/s; load: 1-minute load average before the phase; server CPU: "
        "100% = one core, production: API + worker; read-model lag: events behind the head "
        "right after the load)"
    )
    if mix != "raise":
        print(f"(Minqing phases: mix {mix}; the peer raises only)")
    for name, p in phases.items():
        for kind, n in p.figures.errors.most_common(10):
            print(f"  {LABELS[name]} error x{n}: {kind}")

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "missed")

    def ratio_of(name: str) -> float | None:
        return phases[name].figures.rate / ceiling if name in phases and ceiling else None

    production = ratio_of("production")
    peer = phases.get("peer")
    embedded = phases.get("embedded")
    print("targets:")
    print(
        f"  production ≥ {TARGET_PRODUCTION_RATIO:.2f}× the ceiling: "
        f"{verdict(None if production is None else production >= TARGET_PRODUCTION_RATIO)}"
        + ("" if production is None else f" ({production:.3f}×)")
        + f"; moonshot {MOONSHOT_PRODUCTION_RATIO:.2f}×: "
        f"{verdict(None if production is None else production >= MOONSHOT_PRODUCTION_RATIO)}"
    )
    print(
        "  embedded ≥ the peer: "
        + verdict(
            None if peer is None or embedded is None else embedded.figures.rate >= peer.figures.rate
        )
    )
    for name in ("embedded", "production"):
        p99 = phases[name].figures.p99_ms if name in phases else None
        print(
            f"  {LABELS[name]} p99 ≤ {TARGET_P99_MS:.0f} ms: "
            f"{verdict(None if p99 is None else p99 <= TARGET_P99_MS)}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (default 20)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated, of {','.join(PHASES)}"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="untimed wrk seconds per HTTP phase (2; 0: none)"
    )
    parser.add_argument(
        "--mix", choices=MIXES, default="raise", help="Minqing phases: raise, or raise + refer"
    )
    parser.add_argument(
        "--server-workers", type=int, default=1, help="`minqing serve --workers` (default 1)"
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or any(p not in PHASES for p in phases):
        parser.error(f"--phases must name some of {', '.join(PHASES)}")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in [1, {MAX_SECONDS:.0f}]")
    if not 0 <= args.warmup <= 60:
        parser.error("--warmup must be in [0, 60]")
    if not 0 < args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be in 1..{MAX_CLIENTS}")
    if not 0 < args.server_workers <= 16:
        parser.error("--server-workers must be in 1..16")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg-host must be a loopback address")
    if set(phases) - {"ceiling"}:
        wrk_binary()  # says how to install wrk before anything starts

    pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    options = Options(args.clients, args.seconds, args.warmup, args.mix, args.server_workers)
    client = wrk_version() if set(phases) - {"ceiling"} else "psycopg only"
    print(
        f"bench: PostgreSQL {pg.server_version()} on {pg.host}:{pg.port}, {args.clients} "
        f"clients, {args.seconds:g} s per phase, {os.cpu_count()} cores, client {client}"
    )
    results = {name: run_phase(pg, name, options) for name in PHASES if name in phases}
    report(results, args.mix)
    return 1 if any(p.figures.errors for p in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
