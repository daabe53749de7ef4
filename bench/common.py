"""Helpers shared by the benchmarks: a scratch PostgreSQL database (or a private cluster),
the `minqing` CLI, the real server on a loopback port, and a percentile. Not a benchmark
itself.

The scripts in bench/ are run as files (`.venv/bin/python bench/commands.py`), so this
module is imported as `common` from the script's own directory.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path
from typing import IO, TypeVar

import httpx
import psycopg
from psycopg import sql

from application.bootstrap import open_minqing
from application.settings import Settings
from domain.concern import Concern
from domain.lifecycle import Action
from domain.permissions import actor_for, actor_to_raise
from domain.vocabulary import Category, Channel, Library

REPO = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 60.0
T = TypeVar("T")
CLI_TIMEOUT = 120.0


def _read_models_package_first() -> None:
    """bench/projections.py bears the read models' package name, and a script run from
    bench/ has bench/ first on its path: import the package now, with bench/ off the path,
    so that `projections` means the package for the rest of the process."""
    here = Path(__file__).resolve().parent
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    try:
        importlib.import_module("projections")
    finally:
        sys.path[:] = saved


_read_models_package_first()


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Figures:
    """The summary of one measured phase: operations that succeeded, failures by kind."""

    count: int
    elapsed: float
    p50_ms: float
    p99_ms: float
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0


# --- CPU: what the measured processes used, and what everything else on the machine did ---


def _processes() -> dict[int, tuple[int, int, float]]:
    """Every process on the machine: pid → (parent pid, owner uid, CPU seconds so far)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            uid = entry.stat().st_uid
        except OSError:  # it ended meanwhile
            continue
        # After the command's ")": state, ppid, … utime and stime are fields 14 and 15.
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (int(fields[1]), uid, (int(fields[11]) + int(fields[12])) / tick)
    return found


def _outside(
    before: dict[int, tuple[int, int, float]], after: dict[int, tuple[int, int, float]]
) -> float:
    """CPU seconds used between two snapshots by processes that are neither this bench nor its
    descendants (servers, workers, wrk) nor PostgreSQL's: other sessions' work, the noise.
    Processes that ended in between are missed, so it is a lower bound."""
    try:
        postgres_uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        postgres_uid = -1
    ours = {os.getpid()}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _, _) in after.items() if ppid in ours} - ours
        ours |= more
        grew = bool(more)
    used = 0.0
    for pid, (_, uid, cpu) in after.items():
        if pid not in ours and uid != postgres_uid:
            used += max(0.0, cpu - before.get(pid, (0, 0, 0.0))[2])
    return used


@dataclass(frozen=True)
class CpuUse:
    """CPU over a measured span, in % of one core: each watched process's, and the rest of
    the machine's outside this bench and PostgreSQL."""

    processes: list[float]
    outside: float


def measure_cpu(processes: Sequence[Process], measure: Callable[[], T]) -> tuple[T, CpuUse]:
    """Run `measure`; its result and the CPU used meanwhile."""
    machine = _processes()
    before = [p.cpu_seconds() for p in processes]
    began = time.monotonic()
    result = measure()
    elapsed = time.monotonic() - began
    shares = [(p.cpu_seconds() - b) / elapsed * 100 for p, b in zip(processes, before, strict=True)]
    return result, CpuUse(shares, _outside(machine, _processes()) / elapsed * 100)


# --- PostgreSQL ------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10)

    def create_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def server_version(self) -> str:
        with self.admin() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


class PrivateCluster:
    """A PostgreSQL 15 cluster of a bench's own under /tmp, to stop and start at will (never
    the shared server); run as the OS user `postgres` when we are root (it refuses root)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="minqing-bench-pg-", dir="/tmp"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.data = str(self.dir / "data")
        self._run("initdb", "-D", self.data, "--auth=trust", "-U", "postgres")

    def _run(self, tool: str, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        argv = [*as_postgres, f"/usr/lib/postgresql/15/bin/{tool}", *args]
        # PostgreSQL's own tools, arguments from this file.
        subprocess.run(argv, check=True, capture_output=True, timeout=120)  # noqa: S603

    def start(self) -> Postgres:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", self.data, "-l", f"{self.dir}/log", "-o", options, "-w", "start")
        return Postgres("127.0.0.1", self.port, "postgres")

    def stop(self, mode: str = "fast") -> None:  # fast, or immediate: a crash
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop("fast")
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the server and its CLI ------------------------------------------------------------


def minqing_command() -> list[str]:
    """The `minqing` console command of this interpreter's environment."""
    beside = Path(sys.executable).with_name("minqing")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("minqing")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from api.cli import main; sys.exit(main())"]


def cli(env: dict[str, str], *args: str) -> str:
    """Run `minqing ARGS` with `env`; its stdout, or exit with its output on failure."""
    done = subprocess.run(  # noqa: S603 - our own command, arguments from this file
        [*minqing_command(), *args],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench: `minqing {' '.join(args)}` failed ({done.returncode})")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    """A command running in the background, its output kept in a temporary file."""

    def __init__(self, env: dict[str, str], argv: Sequence[str]) -> None:
        self._log: IO[str] = tempfile.TemporaryFile("a+", prefix="minqing-bench-")  # noqa: SIM115
        self._proc = subprocess.Popen(  # noqa: S603 - our own commands, arguments from bench/
            list(argv),
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def cpu_seconds(self) -> float:
        """User + system CPU time the process and its live descendants have used so far
        (uvicorn's worker processes, `minqing serve`'s read-model process; Linux /proc; 0
        elsewhere)."""
        machine = _processes()
        tree = {self._proc.pid}
        grew = True
        while grew:
            more = {pid for pid, (ppid, _, _) in machine.items() if ppid in tree} - tree
            tree |= more
            grew = bool(more)
        return sum(machine[pid][2] for pid in tree if pid in machine)

    def running(self) -> bool:
        return self._proc.poll() is None

    def output(self, last: int = 40) -> str:
        self._log.flush()
        self._log.seek(0)
        return "".join(self._log.readlines()[-last:])

    def fail(self, why: str) -> None:
        self.stop()
        sys.stderr.write(self.output())
        raise SystemExit(f"bench: {why}")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, whatever it was doing (the fault drill)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(15)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(15)


class MinqingProcess(Process):
    """`minqing ARGS` running in the background."""

    def __init__(self, env: dict[str, str], args: Sequence[str]) -> None:
        super().__init__(env, [*minqing_command(), *args])


class HttpProcess(Process):
    """A background command serving HTTP on loopback `port`, with a `/healthz` route."""

    def __init__(self, env: dict[str, str], argv: Sequence[str], port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        super().__init__(env, argv)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    self.fail(f"server exited with {self._proc.returncode} while starting")
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        self.fail(f"server not ready after {SERVER_START_TIMEOUT:.0f} s")


class Server(HttpProcess):
    """`minqing serve` on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int = 1) -> None:
        port = free_port()
        super().__init__(
            env,
            [
                *minqing_command(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *(["--workers", str(workers)] if workers != 1 else []),
            ],
            port,
        )


def minqing_env(pg: Postgres, dbname: str) -> dict[str, str]:
    """This process's environment pointed at `dbname`, with a fresh random master key."""
    env = dict(os.environ)
    env["MINQING_DATABASE_URL"] = pg.url(dbname)
    env["MINQING_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    env.pop("MINQING_HOST", None)
    env.pop("MINQING_PORT", None)
    return env


def add_principal(
    env: dict[str, str], name: str, roles: Sequence[str], member: str | None = None
) -> str:
    """`minqing users add NAME --role … [--member M]` then `minqing tokens issue NAME`: the
    token."""
    linked = ["--member", member] if member else []
    cli(env, "users", "add", name, *(arg for role in roles for arg in ("--role", role)), *linked)
    lines = cli(env, "tokens", "issue", name).strip().splitlines()
    if not lines:
        raise SystemExit("bench: `minqing tokens issue` printed no token")
    return lines[-1].strip()


# --- loading real events in-process ----------------------------------------------------

# Concerns per `app.save(...)`: one transaction, 2 events each.
LOAD_BATCH = 500
# A few realistic variants, cycled so the events are not all alike.
TEXTS = [
    ("东侧小路路灯坏了两周", "5号楼东侧小路的路灯已经两周不亮，老人晚上出行不便。"),
    ("楼道堆放杂物", "3单元楼道长期堆放纸箱和旧家具，存在消防隐患。"),
    ("低保申请咨询", "居民询问低保申请需要哪些材料、去哪里办理。"),
    ("邻里噪音纠纷", "楼上住户深夜装修，多次沟通无果，希望社区出面调解。"),
]


class Loader:
    """The Minqing application in this process, writing real events as one principal."""

    def __init__(self, env: dict[str, str], principal_name: str) -> None:
        settings = Settings(
            database_url=env["MINQING_DATABASE_URL"],
            master_key=env["MINQING_MASTER_KEY"],
            embedded_workers=False,
        )
        self.app = open_minqing(settings)
        self.principal = self.app.accounts.find(principal_name)
        self.raised = 0
        self._variants = cycle(
            (text, category, library, channel, str(grid))
            for text in TEXTS
            for category in Category
            for library in Library
            for channel in Channel
            for grid in range(1, 5)
        )

    def write(self, events: int) -> float:
        """Raise and refer `events // 2` concerns, LOAD_BATCH per save; the seconds taken."""
        year = self.app.clock().year
        concerns = events // 2
        began = time.perf_counter()
        for start in range(0, concerns, LOAD_BATCH):
            batch: list[Concern] = []
            for _ in range(min(LOAD_BATCH, concerns - start)):
                (title, description), category, library, channel, grid = next(self._variants)
                self.raised += 1
                at = self.app.clock()
                concern = Concern.raise_new(
                    reference=f"MQ-{year}-{self.raised:06d}",
                    tracking_code=secrets.token_hex(6).upper(),
                    title=title,
                    description=description,
                    category=category,
                    library=library,
                    channel=channel,
                    grid=grid,
                    building=None,
                    priority_visit=None,
                    resident_ref=None,
                    resident_data=None,
                    anonymous=False,
                    actor=actor_to_raise(self.principal, grid),
                    at=at,
                )
                concern.refer(actor_for(self.principal, Action.REFER, concern), None, at)
                batch.append(concern)
            self.app.save(*batch)
        return time.perf_counter() - began

    def close(self) -> None:
        self.app.close()
