"""Command throughput on PostgreSQL: the durable-commit ceiling, a minimal peer, and Minqing
embedded and in the production shape, in one run.

Four phases, each on its own fresh PostgreSQL database of the same server, each for the same
time with the same number of clients (16 by default):

1. ceiling: plain single-row INSERT + COMMIT loops from N psycopg connections
   (bench/ceiling.py);
2. peer: a minimal FastAPI + eventsourcing service written the obvious way (bench/peer.py,
   eventsourcing's PostgreSQL module with default settings), served by uvicorn in its own
   process; `POST /concerns`;
3. embedded: `minqing serve` with default settings (the read models in the child process it
   starts, as `make run`); `POST /api/v1/concerns`;
4. production: `minqing serve` with MINQING_EMBEDDED_WORKERS=false and `minqing worker
   projections` as a separate process; `POST /api/v1/concerns`.

The HTTP phases are driven by wrk (bench/wrk.py, bench/commands.lua) with N keep-alive
connections, each request one command. It prints commands/s, p50/p99 latency, the ratio to
the ceiling, errors, the server's CPU (with its child processes') and other processes' CPU
(the noise) per phase, and whether the targets are met; drops its databases and stops by
itself. Figures only; nothing here is asserted. The exit status is non-zero only if
requests or inserts failed.

    .venv/bin/python bench/commands.py --seconds 20
    .venv/bin/python bench/commands.py --phases ceiling,production --seconds 10

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI), and wrk
(Debian package `wrk`: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from ceiling import measure_ceiling
from common import (
    CpuUse,
    Figures,
    HttpProcess,
    MinqingProcess,
    Postgres,
    Process,
    Server,
    add_principal,
    cli,
    free_port,
    measure_cpu,
    minqing_env,
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


# --- the HTTP phases: wrk against a server process ----------------------------------------


@dataclass(frozen=True)
class Phase:
    """One measured phase: its figures, the machine's load and CPU, the read models' lag."""

    name: str
    figures: Figures
    load_before: float
    cpu: CpuUse
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


def load_server(
    server: HttpProcess, others: Sequence[Process], load: Load, options: Options
) -> tuple[Figures, CpuUse]:
    """Wait for the server, check one command, warm up, then drive it with wrk for the
    phase's time; the figures and the CPU the server (and `others`) used meanwhile."""
    server.wait_ready()
    check_one(server, others, load)
    if options.warmup > 0:
        warm = drive(load, options.clients, options.warmup)
        if warm.errors or not warm.count:
            for p in others:
                p.stop()
            server.fail(f"warm-up failed: {dict(warm.errors) or 'no command completed'}")
    return measure_cpu([server, *others], lambda: drive(load, options.clients, options.seconds))


def measure_peer(pg: Postgres, dbname: str, options: Options) -> tuple[Figures, CpuUse]:
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
) -> tuple[Figures, CpuUse, str]:
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
            figures, cpu = measure_cpu(
                [], lambda: measure_ceiling(pg, dbname, options.clients, options.seconds)
            )
            return Phase(name, figures, load_before, cpu)
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
        f"{'errors':>7} {'load':>5} {'others':>6}  {'server CPU':<11} {'lag':>5}"
    )
    for name, p in phases.items():
        f = p.figures
        ratio = f"{f.rate / ceiling:9.3f}" if ceiling else f"{'-':>9}"
        print(
            f"{LABELS[name]:<30} {f.rate:10.1f} {f.p50_ms:8.2f} {f.p99_ms:8.2f} {ratio} "
            f"{sum(f.errors.values()):>7} {p.load_before:5.2f} {p.cpu.outside:5.0f}%  "
            f"{' + '.join(f'{c:.0f}%' for c in p.cpu.processes) or '-':<11} {p.lag:>5}"
        )
    print(
        "(ceiling: commits/s. load: 1-minute load average before the phase, this bench's\n"
        " own earlier phases included. others: CPU used during the phase by processes\n"
        " outside this bench and PostgreSQL, i.e. other sessions' work (100% = one core;\n"
        f" the machine has {os.cpu_count()}). server CPU: the server's; production: API +\n"
        " worker. lag: read models' events behind the log's head right after the load.)"
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
