"""The web UI's weight and server time with a realistic register: the queues' page sizes and
the ledger's time.

Creates a fresh PostgreSQL database (`minqing db init`), loads it in-process through the
application's own verbs: `--members` members (default 60, each with a duty role) and
`--concerns` concerns (default 2,000, each with the resident's sealed name and phone and a
description of a few sentences), of which every other one is referred to the committee;
then starts the real server (`minqing serve`, embedded workers on, as `make run`), waits for
the read models to catch up, signs in through the sign-in form as a principal with the roles
staff, grid_leader and committee, and for each page asks it `--requests` times (default 20,
after 3 untimed) from one keep-alive client on loopback: the answer's size in bytes and the
time to the whole answer (p50, p90, in ms: on loopback, the server's time).

It prints the figures, drops the database and stops by itself; nothing is asserted.

    .venv/bin/python bench/ui.py
    .venv/bin/python bench/ui.py --concerns 500 --requests 10

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI).
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import subprocess
import sys
import time
import uuid
from uuid import UUID

import httpx
from common import REPO, Postgres, Server, cli, minqing_command, minqing_env, percentile

from api.settings import Settings
from application.bootstrap import open_minqing
from application.commands import NewConcern
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library

PAGES = (
    "/ui/triage",
    "/ui/committee",
    "/ui/concerns",
    "/ui/ledger",
    "/ui/ledger?group_by=month,category",
)
TARGET_QUEUE_BYTES = 100 * 1024
TARGET_LEDGER_MS = 200.0
MAX_CONCERNS = 20_000
MAX_REQUESTS = 1_000
WARM_UP = 3
PASSWORD = "bench password 1"  # noqa: S105 - a scratch database's only user
DESCRIPTION = (
    "5号楼东侧小路的路灯已经两周不亮，晚上出门看不清路。住在一楼的老人说上周有人在路口摔倒，"
    "希望尽快修好，并在拐角处加一盏灯。居民已向物业反映过两次，没有回音。"
)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def load(settings: Settings, concerns: int, members: int) -> None:
    """Members and concerns through the application's verbs; every other concern referred."""
    app = open_minqing(settings)
    try:
        admin = app.accounts.find("bench-staff")
        duties = list(DutyRole)
        for i in range(members):
            app.register_member(admin, f"党员{i:03d}", ["2"], [duties[i % len(duties)]], True)
        categories, libraries = list(Category), list(Library)
        for i in range(concerns):
            draft = NewConcern(
                title=f"第{i:04d}件：东侧小路路灯坏了两周",
                description=DESCRIPTION,
                category=categories[i % len(categories)],
                library=libraries[i % len(libraries)],
                channel=Channel.VISIT,
                grid="2",
                building="5",
                resident=ResidentData(name="张秀英", phone="13812345678"),
            )
            raised = app.raise_concern(admin, draft)
            if i % 2:
                app.refer(UUID(raised.id), admin, "需要支委会研究")
    finally:
        app.close()


def caught_up(client: httpx.Client, seconds: float = 300.0) -> None:
    """Wait until every read model has applied the whole log (/readyz)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get("/readyz").json()
        lags = [p.get("lag", 0) for p in (body.get("projections") or {}).values()]
        if body.get("status") == "ok" and lags and max(lags) == 0:
            return
        time.sleep(0.5)
    raise SystemExit("bench: the read models did not catch up")


def sign_in(client: httpx.Client) -> None:
    page = client.get("/ui/sign-in").text
    token = html.unescape(_CSRF.search(page).group(1))  # type: ignore[union-attr]
    form = {"csrf": token, "name": "bench-staff", "password": PASSWORD, "next": "/ui/"}
    answer = client.post("/ui/sign-in", data=form)
    if answer.status_code != 303:
        raise SystemExit(f"bench: sign-in answered {answer.status_code}")


def measure(client: httpx.Client, path: str, requests: int) -> tuple[int, float, float]:
    """(bytes, p50 ms, p90 ms) of `path`."""
    size = 0
    times: list[float] = []
    for i in range(WARM_UP + requests):
        began = time.perf_counter()
        answer = client.get(path)
        took = (time.perf_counter() - began) * 1000
        if answer.status_code != 200:
            raise SystemExit(f"bench: {path} answered {answer.status_code}")
        size = len(answer.content)
        if i >= WARM_UP:
            times.append(took)
    times.sort()
    return size, statistics.median(times), percentile(times, 90)


def main(argv: list[str] | None = None) -> int:
    """Load, serve, measure, print, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concerns", type=int, default=2_000)
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    if not 1 <= args.concerns <= MAX_CONCERNS or not 1 <= args.requests <= MAX_REQUESTS:
        parser.error("--concerns 1..20000, --requests 1..1000")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the bench runs against a loopback PostgreSQL only")
    pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"minqing_bench_ui_{uuid.uuid4().hex[:8]}"
    pg.create_database(dbname)
    server = None
    try:
        env = minqing_env(pg, dbname)
        cli(env, "db", "init")
        roles = ("staff", "grid_leader", "committee")
        cli(env, "users", "add", "bench-staff", *(a for r in roles for a in ("--role", r)))
        subprocess.run(  # noqa: S603 - our own command
            [*minqing_command(), "users", "passwd", "bench-staff", "--stdin"],
            env=env,
            cwd=REPO,
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
        settings = Settings(
            database_url=env["MINQING_DATABASE_URL"],
            master_key=env["MINQING_MASTER_KEY"],
            embedded_workers=False,
        )
        began = time.perf_counter()
        load(settings, args.concerns, args.members)
        print(
            f"loaded {args.concerns} concerns, {args.members} members in "
            f"{time.perf_counter() - began:.0f} s"
        )
        server = Server(env)
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, timeout=60.0) as client:
            caught_up(client)
            sign_in(client)
            print(f"{'page':<40} {'bytes':>9} {'p50 ms':>8} {'p90 ms':>8}")
            for path in PAGES:
                size, p50, p90 = measure(client, path, args.requests)
                print(f"{path:<40} {size:>9,} {p50:>8.1f} {p90:>8.1f}")
                if path in ("/ui/triage", "/ui/committee"):
                    met = "met" if size < TARGET_QUEUE_BYTES else "missed"
                    print(f"  target: under {TARGET_QUEUE_BYTES // 1024} KB: {met}")
                if path == "/ui/ledger":
                    met = "met" if p50 < TARGET_LEDGER_MS else "missed"
                    print(f"  target: under {TARGET_LEDGER_MS:.0f} ms: {met}")
    finally:
        if server is not None:
            server.stop()
        pg.drop_database(dbname)
    return 0


if __name__ == "__main__":
    sys.exit(main())
