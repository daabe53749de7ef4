"""Fault drill (issue 11): the production shape (`minqing serve` with embedded workers off,
`minqing worker projections|deadlines|webhooks|checkpoints`) on a PostgreSQL 15 cluster of its
own (initdb'ed under /tmp; the machine's shared server is never touched), under load from
client threads that send each command with an Idempotency-Key and again after a 503 (once
Retry-After has passed), a dropped connection or a concurrent change; meanwhile the worker is
SIGKILLed and restarted, the database stopped and started (fast, then immediate), and bursts
hit one concern (60 record-progress, half with If-Match) and one vote (45 + 10 duplicates).
Then it checks every acknowledged command against the log and the concern list, parked
events, /readyz and `minqing audit verify`, and prints a table (exit status 1 if one failed).

    .venv/bin/python bench/faults.py [--commands 2000] [--clients 8] [--seed N]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import random
import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import common
import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from httpx import Response

DBNAME = "minqing_faults"
WORKERS = ("projections", "deadlines", "webhooks", "checkpoints")
VOTERS, DUPLICATES, BURST = 45, 10, 60
GIVE_UP = 300.0  # seconds a client keeps sending one request again
CONCERN = {"category": "environment", "library": "problem", "channel": "visit", "grid": "2"}
CONCERN |= dict(zip(("title", "description"), common.TEXTS[0], strict=True))  # the streetlight
Ack = tuple[str, str, int, int]  # path, id, version, position of an acknowledged command
Row = tuple[str, str, bool | None]  # what, figure, the check passed (None: a figure only)
Steps = dict[str, Callable[[], Row]]


class Answer(NamedTuple):
    at: float  # seconds since the load began
    kind: str  # setup, load, progress, vote
    status: str  # "201", "503", "transport:ConnectError" …
    ctype: str
    took: float  # seconds from the request to the answer


@dataclass
class Drill:
    """Every answer the clients got, the commands acknowledged, the contract's breaches."""

    base_url: str
    token: str
    t0: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[Answer] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)
    load_acked: int = 0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def client(self, token: str | None = None, connections: int = 10) -> httpx.Client:
        auth = {"Authorization": f"Bearer {token or self.token}"}
        limits = httpx.Limits(max_connections=connections)
        return httpx.Client(base_url=self.base_url, headers=auth, timeout=60.0, limits=limits)

    def note(self, kind: str, status: str, ctype: str = "", why: str = "", took: float = 0) -> None:
        with self.lock:
            self.answers.append(Answer(self.now(), kind, status, ctype, took))
            self.breaches += [why] if why else []

    def send(self, c: httpx.Client, kind: str, path: str, body: Any = None, **kw: Any) -> Response:
        """A request as a well-behaved client sends it: with an Idempotency-Key, sent again
        with it after a 503, a dropped connection or a concurrent change (unless `once`); the
        final answer. A command answered 2xx is acknowledged."""
        method, params = kw.get("method", "POST"), kw.get("params")
        headers = {**kw.get("headers", {}), "Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + GIVE_UP
        while True:
            try:
                r = c.request(method, path, json=body, headers=headers, params=params)
            except httpx.TransportError as exc:
                self.note(kind, f"transport:{type(exc).__name__}")
                if kw.get("once") or time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
                continue
            ctype = r.headers.get("content-type", "").split(";")[0]
            bad = r.status_code >= 400 and ctype != "application/json"
            bad |= r.status_code >= 500 and (r.status_code != 503 or "retry-after" not in r.headers)
            breach = f"{method} {path}: {r.status_code} {r.text[:200]}" if bad else ""
            self.note(kind, str(r.status_code), ctype, breach, r.elapsed.total_seconds())
            again = r.status_code == 409 and r.json().get("rule") == "concurrent_change"
            again |= r.status_code == 503
            if again and not kw.get("once") and time.monotonic() < deadline:
                time.sleep(float(r.headers.get("retry-after", "0.1")))
                continue
            if r.is_success and method == "POST":
                data = r.json()
                with self.lock:
                    self.acks.append((path, data["id"], data["version"], data["position"]))
                    self.load_acked += kind == "load"
            if kw.get("must") and not r.is_success:
                raise SystemExit(f"drill: {method} {path} answered {r.status_code}: {r.text}")
            return r

    def get(self, c: httpx.Client, kind: str, path: str, **params: str) -> dict[str, Any]:
        """A read that must succeed (after any 503s): its JSON."""
        return dict(self.send(c, kind, path, method="GET", params=params, must=True).json())


def set_up(drill: Drill, env: dict[str, str]) -> tuple[str, str, str, list[str], str]:
    """45 members; a concern assigned to one; a meeting of all 45, opened, voting on a second
    concern. (chair's token, assigned concern, meeting, members, item voted on)"""

    def new(c: httpx.Client, path: str, body: Any = None) -> str:
        return str(drill.send(c, "setup", path, body, must=True).json()["id"])

    with drill.client() as c:
        member = {"grids": ["2"], "duty_roles": ["environment_monitor"], "votes_in_branch": True}
        members = [new(c, "/api/v1/members", {"name": f"党员{i:02d}", **member}) for i in range(45)]
        chair = common.add_principal(env, "chair", ["chair"], member=members[0])
        assigned = new(c, "/api/v1/concerns", CONCERN)
        due = (date.today() + timedelta(days=16)).isoformat()
        owner = {"owner": members[1], "duty_role": "environment_monitor", "due_on": due}
        new(c, f"/api/v1/concerns/{assigned}/handle-now", owner)
        item = new(c, "/api/v1/concerns", CONCERN)
        new(c, f"/api/v1/concerns/{item}/refer", {})
        when = (datetime.now().astimezone() + timedelta(days=1)).isoformat(timespec="seconds")
        kind = "thematic_party_day"
        meeting = {"title": "故障演练", "kind": kind, "scheduled_for": when, "chair": members[0]}
        mid = new(c, "/api/v1/meetings", {**meeting, "eligible_voters": members})
        new(c, f"/api/v1/meetings/{mid}/agenda", {"concern_id": item})
    with drill.client(chair) as c:
        new(c, f"/api/v1/meetings/{mid}/open", {"present": members})
        new(c, f"/api/v1/meetings/{mid}/items/{item}/open-vote")
    return chair, assigned, mid, members, item


def load(drill: Drill, target: int, done: threading.Event) -> None:
    """Raise and refer concerns until `target` are acknowledged and the faults are over."""
    with drill.client() as c:
        while drill.load_acked < target or not done.is_set():
            r = drill.send(c, "load", "/api/v1/concerns", CONCERN)
            if r.status_code == 201:
                r = drill.send(c, "load", f"/api/v1/concerns/{r.json()['id']}/refer", {})
            if not r.is_success:
                drill.note("load", "gave up", why=f"a load command ended {r.status_code}")


def progress_burst(drill: Drill, concern: str) -> Row:
    """60 record-progress at once on one concern, half with If-Match (re-read after a 412)."""
    path = f"/api/v1/concerns/{concern}"
    with drill.client(connections=BURST) as client:

        def version() -> int:
            return int(drill.get(client, "progress", path)["version"])

        def one(i: int) -> int:
            while True:
                match = {"If-Match": f'"{version()}"'} if i % 2 else {}
                note = {"note": f"进展 {i}"}
                r = drill.send(client, "progress", f"{path}/record-progress", note, headers=match)
                if r.status_code != 412:
                    return int(r.json()["version"])

        before = version()
        with ThreadPoolExecutor(BURST) as pool:
            versions = len(set(pool.map(one, range(BURST))))
        after = version()
    n412 = sum(a.kind == "progress" and a.status == "412" for a in drill.answers)
    figure = f"{versions} distinct versions acknowledged, {before} → {after}; {n412} × 412"
    return f"{BURST} record-progress on one concern", figure, versions == BURST == after - before


def vote_burst(drill: Drill, chair: str, meeting: str, item: str, voters: list[str]) -> Row:
    """45 votes at once on one open vote (the chair naming each voter), and 10 duplicates."""
    ballots = [*voters, *random.sample(voters, DUPLICATES)]
    random.shuffle(ballots)
    path = f"/api/v1/meetings/{meeting}/items/{item}/votes"
    with drill.client(chair, connections=len(ballots)) as client:

        def one(voter: str) -> str:
            choice = random.choice(["for", "for", "against", "abstain"])
            r = drill.send(client, "vote", path, {"choice": choice, "voter": voter})
            return f"{r.status_code} {r.json().get('rule', '')}".strip()

        with ThreadPoolExecutor(len(ballots)) as pool:
            answers = Counter(pool.map(one, ballots))
        view = drill.get(client, "check", f"/api/v1/meetings/{meeting}")
    n = sum(len(i.get("votes", [])) for i in view["agenda"] if i["concern_id"] == item)
    ok = n == VOTERS and answers["409 already_voted"] == DUPLICATES
    return f"{VOTERS} votes + {DUPLICATES} duplicates at once", f"{dict(answers)}; {n} recorded", ok


def probe(drill: Drill, concern: str, stop: threading.Event) -> None:
    """Read one concern every 0.25 s: when the service answers and when it does not."""
    with drill.client() as c:
        while not stop.is_set():
            with contextlib.suppress(httpx.TransportError):
                drill.send(c, "probe", f"/api/v1/concerns/{concern}", method="GET", once=True)
            time.sleep(0.25)


@dataclass
class Faults:
    """The faults: when each comes (a share of the commands), and what happened."""

    env: dict[str, str]
    cluster: common.PrivateCluster
    started: list[common.Process]  # every process of the drill, the killed ones too
    worker: common.Process
    kills: list[float] = field(default_factory=list)
    restarts: list[tuple[str, float, float]] = field(default_factory=list)  # mode, stop, start

    def inject(
        self, drill: Drill, args: argparse.Namespace, pool: ThreadPoolExecutor, steps: Steps
    ) -> list[Future[Row]]:
        """Each step once the load has acknowledged its share of the commands: kills anywhere,
        restarts spread out (fast, then immediate), the bursts mid-way."""
        plan = [(random.uniform(0.05, 0.95), "kill") for _ in range(args.kills)]
        n = args.restarts
        plan += [((i + 1) / (n + 1) + random.uniform(-0.08, 0.08), "restart") for i in range(n)]
        plan += [(random.uniform(0.25, 0.5), "progress"), (random.uniform(0.4, 0.75), "votes")]
        bursts = []
        for share, what in sorted(plan):
            while drill.load_acked < share * args.commands:
                time.sleep(0.05)
            if what == "kill":
                self.kills.append(drill.now())
                self.worker.kill()
                time.sleep(random.uniform(0.0, 1.0))
                self.worker = common.MinqingProcess(self.env, ["worker", "projections"])
                self.started.append(self.worker)
            elif what == "restart":
                mode, stopped = ("fast", "immediate")[len(self.restarts) % 2], drill.now()
                self.cluster.stop(mode)
                time.sleep(args.down_seconds)
                self.cluster.start()
                self.restarts.append((mode, stopped, drill.now()))
            else:
                bursts.append(pool.submit(steps[what]))
        wait(bursts)  # under load to the end
        return bursts

    def windows(self, drill: Drill) -> list[Row]:
        """Per restart: the database down, the service giving no 2xx (the probe's requests,
        by when they were sent), and the 503s the clients got meanwhile."""
        rows: list[Row] = []
        seen = [(a.at - a.took, a.status[0] == "2") for a in drill.answers if a.kind == "probe"]
        ends = [stopped for _, stopped, _ in self.restarts[1:]] + [float("inf")]
        for i, ((mode, stopped, started), end) in enumerate(zip(self.restarts, ends, strict=True)):
            fail = next((t for t, ok in seen if t >= stopped - 1 and not ok), stopped)
            back = next((t for t, ok in seen if t > fail and ok), started)
            got = [a for a in drill.answers if a.status == "503" and stopped <= a.at < end]
            got = [a for a in got if a.kind != "probe"]  # the clients' 503s
            what = f"restart {i + 1}: {mode} stop at {stopped:.1f} s"
            figure = f"database down {started - stopped:.1f} s; no 2xx {fail:.1f}–{back:.1f} s"
            last, slow = max((a.at for a in got), default=0), max((a.took for a in got), default=0)
            figure += f"; {len(got)} × 503, the last at {last:.1f} s, the slowest in {slow:.1f} s"
            rows.append((what, figure, None))
        return rows


def catch_up(drill: Drill, timeout: float = 300.0) -> tuple[float, httpx.Response]:
    """Seconds until /readyz shows every read model at the log's head; its last answer."""
    began = time.monotonic()
    with drill.client() as c:
        while time.monotonic() - began < timeout:
            with contextlib.suppress(httpx.TransportError):
                r = c.get("/readyz")
                projections = r.json().get("projections", {})
                if projections and all(p["lag"] == 0 for p in projections.values()):
                    return time.monotonic() - began, r
            time.sleep(0.5)
    raise SystemExit(f"drill: read models not caught up after {timeout:.0f} s")


def recovered(processes: dict[str, common.Process], timeout: float = 60.0) -> Row:
    """Every process is running, and logged the end of each outage it logged the start of
    (waits out the workers' backoff, up to every 30 s)."""
    began = time.monotonic()
    while True:
        logs = {name: p.output(10**6) for name, p in processes.items()}
        stuck = [n for n, log in logs.items() if log.count("unavailable (") > log.count("again")]
        stuck += [name for name, p in processes.items() if not p.running()]
        if not stuck or time.monotonic() - began > timeout:
            figure = "".join(f"\n  {n}: {logs[n].splitlines()[-1]}" for n in stuck) or "all"
            return "processes running, back after every outage", figure, not stuck
        time.sleep(1.0)


def log_check(drill: Drill, pg: common.Postgres) -> list[Row]:
    """Every acknowledged command's event at its position in the log; every concern raised in
    the log acknowledged to a client, and listed in the concern list read model."""
    with psycopg.connect(pg.url(DBNAME)) as conn:
        table = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND column_name = 'notification_id' AND table_name LIKE '%events'"
        ).fetchone()
        assert table is not None
        query = "SELECT notification_id, originator_id::text, originator_version, topic FROM {}"
        rows = conn.execute(query.format(table[0])).fetchall()
    logged = {(int(n), str(o), int(v)) for n, o, v, _ in rows}
    lost = sum((position, cid, version) not in logged for _, cid, version, position in drill.acks)
    raised = {str(o) for _, o, _, topic in rows if str(topic).endswith("Concern.Raised")}
    told = {cid for path, cid, _, _ in drill.acks if path == "/api/v1/concerns"}
    listed, page = set(), dict[str, Any](next_cursor="")
    with drill.client() as c:
        while page["next_cursor"] is not None:
            cursor = {"cursor": page["next_cursor"]} if page["next_cursor"] else {}
            page = drill.get(c, "check", "/api/v1/concerns", limit="200", **cursor)
            listed |= {str(item["id"]) for item in page["items"]}
    return [
        ("events lost (acknowledged, not in the log)", f"{lost} of {len(drill.acks)}", not lost),
        ("concerns in the log never acknowledged", str(len(raised - told)), raised <= told),
        ("acknowledged concerns not in the concern list", str(len(told - listed)), told <= listed),
    ]


def audit_verify(env: dict[str, str]) -> Row:
    """`minqing audit verify`: it must exit 0."""
    argv = [*common.minqing_command(), "audit", "verify"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
    found = (done.stdout + done.stderr).strip()[-300:]
    with contextlib.suppress(ValueError, KeyError):
        report = json.loads(done.stdout)
        found = f"{report['checked']} events, first problem {report['first_problem']}"
    return "minqing audit verify", f"exit {done.returncode}: {found}", done.returncode == 0


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> list[Row]:
    """The drill from initdb to the checks; the summary's rows."""
    cluster = common.PrivateCluster(common.free_port())
    stack.callback(cluster.remove)
    started: list[common.Process] = []
    stack.callback(lambda: list(map(common.Process.stop, started)))
    pg = cluster.start()
    pg.create_database(DBNAME)
    env = {**common.minqing_env(pg, DBNAME), "MINQING_EMBEDDED_WORKERS": "false"}
    key = Ed25519PrivateKey.generate().private_bytes_raw()  # the checkpoints worker needs one
    env["MINQING_AUDIT_SIGNING_KEY"] = base64.b64encode(key).decode()
    common.cli(env, "db", "init")
    roles = ["admin", "staff", "grid_leader", "committee", "supervisor"]
    token = common.add_principal(env, "drill", roles)
    started += [common.MinqingProcess(env, ["worker", kind]) for kind in WORKERS]
    started.append(server := common.Server(env))
    server.wait_ready()
    drill = Drill(server.base_url, token)
    chair, assigned, mid, members, item = set_up(drill, env)
    faults = Faults(env, cluster, started, started[0])
    steps: Steps = {
        "progress": lambda: progress_burst(drill, assigned),
        "votes": lambda: vote_burst(drill, chair, mid, item, members),
    }
    done, stop = threading.Event(), threading.Event()
    drill.t0 = time.monotonic()  # times from here on: seconds since the load began
    with ThreadPoolExecutor(args.clients + 3) as pool:
        prober = pool.submit(probe, drill, assigned, stop)
        clients = [pool.submit(load, drill, args.commands, done) for _ in range(args.clients)]
        try:
            bursts = faults.inject(drill, args, pool, steps)
        finally:
            done.set()
            wait(clients)
        ended = drill.now()
        stop.set()
    futures: list[Future[Any]] = [prober, *clients, *bursts]
    failed = [f.exception() for f in futures if f.exception()]
    breaches = drill.breaches + [f"a thread failed: {exc!r}" for exc in failed]
    caught_up, ready = catch_up(drill)
    current = dict(zip(WORKERS, started, strict=False))
    back = recovered({**current, "projections": faults.worker, "serve": server})
    logs = "\n".join(p.output(10**6) for p in started)
    names = [
        *WORKERS,
        "serve",
        *(f"projections-{i}" for i in range(1, len(started) - len(WORKERS))),
    ]
    for name, process in zip(names, started, strict=True) if args.logs else ():
        args.logs.mkdir(parents=True, exist_ok=True)
        (args.logs / f"{name}.log").write_text(process.output(10**7))
    outages = re.findall(r"(\w[\w ]+): database available again after ([\d.]+) s", logs)
    types = Counter(a.ctype for a in drill.answers if a.ctype)
    kinds: dict[str, Counter[str]] = {}
    for a in drill.answers:
        kinds.setdefault(a.kind, Counter())[a.status] += 1
    parked = {n: p["parked"] for n, p in ready.json()["projections"].items() if p["parked"]}
    figure = f"{drill.load_acked} acknowledged from {args.clients} threads in {ended:.1f} s"
    return [
        ("seed; load commands", f"{args.seed}; {figure}", None),
        *((f"answers to {k}", str(dict(sorted(c.items()))), None) for k, c in kinds.items()),
        ("content types", str(dict(types)), set(types) == {"application/json"}),
        ("contract breaches", "".join(f"\n  {b}" for b in breaches) or "0", not breaches),
        ("worker SIGKILLs at (s)", ", ".join(f"{t:.1f}" for t in faults.kills), None),
        *faults.windows(drill),
        ("outages the processes logged", ", ".join(f"{w} {s} s" for w, s in outages), None),
        back,
        *(f.result() for f in bursts if not f.exception()),
        ("read models at the head after the load", f"{caught_up:.1f} s", None),
        *log_check(drill, pg),
        ("parked events", str(parked or 0), not parked),
        ("/readyz", f"{ready.status_code} {ready.json()['status']}", ready.status_code == 200),
        audit_verify(env),
        ("tracebacks in the processes' logs", str(logs.count("Traceback")), None),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=2000, help="commands of the load")
    parser.add_argument("--clients", type=int, default=8, help="client threads of the load")
    parser.add_argument("--kills", type=int, default=6, help="SIGKILLs of the worker")
    parser.add_argument("--restarts", type=int, default=2, help="database restarts")
    parser.add_argument("--down-seconds", type=float, default=5.0, help="database down each")
    parser.add_argument("--seed", type=int, default=random.randrange(10**6))
    parser.add_argument("--logs", type=Path, help="write each process's output to this directory")
    args = parser.parse_args()
    random.seed(args.seed)
    with contextlib.ExitStack() as stack:
        rows = run(args, stack)
    for what, figure, ok in rows:
        print(f"{what:<46} {figure}{'' if ok is None else '  ok' if ok else '  FAILED'}")
    failed = [what for what, _, ok in rows if ok is False]
    print("result:", f"FAILED: {', '.join(failed)}" if failed else "every check passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
