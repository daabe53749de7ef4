"""Audit reads on PostgreSQL: a long concern's history and time travel, and chain verification.

Creates a fresh PostgreSQL database, loads it in-process through the application's own
`save` (one concern with `--events` events, default 1,000, made of a raise, a handle-now and
progress notes; then `--verify-events` more events, default 100,000, as concerns of five
events each: raise with sealed resident data, handle-now, two progress notes, resolve),
extends the audit chain and signs a checkpoint. Then it:

(a) starts the real server (`minqing serve`) on a free loopback port and times, from one
    keep-alive HTTP client, `GET /api/v1/concerns/{id}/history` and
    `GET /api/v1/concerns/{id}?as_of_version=N` of the long concern (p50/p99 over
    `--requests` requests each, after a warm-up), plus one `GET /api/v1/audit/verify`;
(b) times `adapters.audit.verify` in-process (recompute every link from the stored events and
    compare with the recorded chain and the checkpoint) in events/s, and, in the same run, the
    ceiling: a plain psycopg scan of the same columns of the events table (server-side cursor,
    no hashing), and the ratio.

It prints the figures, drops the database and stops by itself. Figures only; nothing here is
asserted.

    .venv/bin/python bench/audit.py
    .venv/bin/python bench/audit.py --verify-events 20000 --requests 20

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI).
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import psycopg
from common import Postgres, Server, add_principal, minqing_env, percentile
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit
from application.bootstrap import open_minqing
from application.minqing import Minqing
from application.settings import Settings
from domain.concern import Assignment, Concern
from domain.principal import Actor
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library, Role

TARGET_HISTORY_MS = 50.0
TARGET_VERIFY_RATE = 20_000.0
# Upper bounds so that nothing here can run away.
MAX_EVENTS = 100_000
MAX_VERIFY_EVENTS = 2_000_000
MAX_REQUESTS = 10_000
WARM_UP = 5
# Events per save while loading: one transaction each, like a busy office's commands.
SAVE_EVENTS = 1_000
EVENTS_PER_CONCERN = 5
REPEATS = 3
REQUEST_TIMEOUT = 300.0  # verify over the whole log is one long request
ACTOR = Actor("bench-loader", Role.STAFF)


@dataclass(frozen=True)
class Timing:
    """Latencies of one kind of request, in seconds, sorted."""

    label: str
    latencies: list[float]
    body_bytes: int

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000


@dataclass(frozen=True)
class Rate:
    """Events processed per second: the median of `REPEATS` runs, and each run's figure."""

    label: str
    events: int
    seconds: list[float]

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.events / self.median_seconds if self.median_seconds > 0 else 0.0


# --- loading -------------------------------------------------------------------------------


def _new_concern(app: Minqing, n: int, resident: bool) -> tuple[Concern, list[Any]]:
    sealed = (
        app.keyring.seal(ResidentData(name=f"居民{n}", phone=f"138{n:08d}", address="幸福里5号楼"))
        if resident
        else None
    )
    concern = Concern.raise_new(
        reference=f"MQ-BENCH-{n:07d}",
        tracking_code=f"BENCH{n:07d}",
        title="东侧小路路灯坏了两周",
        description="5号楼东侧小路的路灯已经两周不亮，老人晚上出行不便。",
        category=Category.ENVIRONMENT,
        library=Library.PROBLEM,
        channel=Channel.VISIT,
        grid="2",
        building="5",
        priority_visit=None,
        resident_ref=sealed.resident_ref if sealed else None,
        resident_data=sealed.ciphertext if sealed else None,
        anonymous=False,
        actor=ACTOR,
        at=app.clock(),
    )
    due = app.clock().date() + timedelta(days=30)
    concern.handle_now(ACTOR, _assignment(due), None, app.clock())
    return concern, [sealed.key_row] if sealed else []


def _assignment(due: date) -> Assignment:
    return Assignment(owner=uuid.uuid4(), duty_role=DutyRole.ENVIRONMENT_MONITOR, due_on=due)


def load_long_concern(app: Minqing, events: int) -> UUID:
    """One concern with `events` events: raise, handle-now, then progress notes."""
    concern, writes = _new_concern(app, 0, resident=False)
    app.save(concern, side_rows=writes)
    while concern.version < events:
        concern.record_progress(ACTOR, f"第{concern.version + 1}次进展：联系了施工队", app.clock())
        if len(concern.pending_events) >= SAVE_EVENTS:
            app.save(concern)
    app.save(concern)
    return concern.id


def load_many(app: Minqing, events: int) -> int:
    """About `events` more events as concerns of five; returns how many were stored."""
    stored = 0
    n = 1
    while stored < events:
        batch: list[Concern] = []
        writes: list[Any] = []
        while (
            len(batch) * EVENTS_PER_CONCERN < SAVE_EVENTS
            and stored + len(batch) * EVENTS_PER_CONCERN < events
        ):
            concern, rows = _new_concern(app, n, resident=True)
            concern.record_progress(ACTOR, "联系了施工队", app.clock())
            concern.record_progress(ACTOR, "配件已到", app.clock())
            concern.resolve(ACTOR, "路灯已更换", app.clock())
            batch.append(concern)
            writes.extend(rows)
            n += 1
        app.save(*batch, side_rows=writes)
        stored += len(batch) * EVENTS_PER_CONCERN
    return stored


# --- (a) the HTTP reads ---------------------------------------------------------------------


def time_get(client: httpx.Client, label: str, path: str, requests: int) -> Timing:
    """`requests` sequential GETs of `path` after a warm-up; every answer must be 200."""
    size = 0
    for _ in range(WARM_UP):
        r = client.get(path)
        if r.status_code != 200:
            raise SystemExit(f"bench: GET {path}: HTTP {r.status_code} {r.text[:300]}")
        size = len(r.content)
    latencies = []
    for _ in range(requests):
        began = time.perf_counter()
        r = client.get(path)
        latencies.append(time.perf_counter() - began)
        if r.status_code != 200:
            raise SystemExit(f"bench: GET {path}: HTTP {r.status_code} {r.text[:300]}")
    return Timing(label, sorted(latencies), size)


def measure_http(
    env: dict[str, str], concern: UUID, as_of: int, requests: int
) -> tuple[list[Timing], float, dict[str, Any]]:
    """Start the server, time the long concern's history and time travel, and one verify."""
    token = add_principal(env, "bench", ["supervisor", "staff"])
    headers = {"Authorization": f"Bearer {token}"}
    server = Server(env)
    try:
        server.wait_ready()
        with httpx.Client(
            base_url=server.base_url, headers=headers, timeout=REQUEST_TIMEOUT
        ) as client:
            history = time_get(
                client, "GET …/history", f"/api/v1/concerns/{concern}/history", requests
            )
            travel = time_get(
                client,
                f"GET …?as_of_version={as_of}",
                f"/api/v1/concerns/{concern}?as_of_version={as_of}",
                requests,
            )
            current = time_get(client, "GET … (now)", f"/api/v1/concerns/{concern}", requests)
            began = time.perf_counter()
            r = client.get("/api/v1/audit/verify")
            verify_seconds = time.perf_counter() - began
            if r.status_code != 200:
                server.fail(f"GET /api/v1/audit/verify: HTTP {r.status_code} {r.text[:300]}")
            report: dict[str, Any] = r.json()
    finally:
        server.stop()
    return [history, travel, current], verify_seconds, report


# --- (b) verify and its ceiling -------------------------------------------------------------


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def scan_events(url: str, table: str) -> int:
    """A plain read of every stored event's chained columns, in log order: the ceiling."""
    rows = 0
    with psycopg.connect(url) as conn, conn.cursor(name="bench_scan") as cur:
        cur.itersize = 2000
        cur.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {table} ORDER BY notification_id"
        )
        for _ in cur:
            rows += 1
    return rows


def measure_verify(app: Minqing, url: str, public_key: str) -> tuple[Rate, Rate, int]:
    """Verify `REPEATS` times and scan `REPEATS` times, alternating; the chained events."""
    verify_seconds: list[float] = []
    scan_seconds: list[float] = []
    checked = 0
    scanned = 0
    for _ in range(REPEATS):
        seconds, report = timed(lambda: audit.verify(app.db, public_key))
        if not report.ok:
            raise SystemExit(f"bench: verify found a problem: {report.as_dict()}")
        checked = report.checked
        verify_seconds.append(seconds)
        seconds, scanned = timed(lambda: scan_events(url, app.db.events_table))
        scan_seconds.append(seconds)
    if scanned != checked:
        print(f"bench: note: scanned {scanned} rows, verify checked {checked}")
    return (
        Rate("verify (in-process)", checked, verify_seconds),
        Rate("psycopg scan (ceiling)", scanned, scan_seconds),
        checked,
    )


# --- report ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000, help="the long concern's events")
    parser.add_argument(
        "--verify-events", type=int, default=100_000, help="more events for verify (100,000)"
    )
    parser.add_argument("--requests", type=int, default=50, help="timed requests per kind (50)")
    parser.add_argument("--as-of-version", type=int, default=None, help="default: events / 2")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    if not 3 <= args.events <= MAX_EVENTS:
        parser.error(f"--events must be in 3..{MAX_EVENTS}")
    if not 0 <= args.verify_events <= MAX_VERIFY_EVENTS:
        parser.error(f"--verify-events must be in 0..{MAX_VERIFY_EVENTS}")
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be in 1..{MAX_REQUESTS}")
    as_of = args.as_of_version or args.events // 2
    if not 1 <= as_of <= args.events:
        parser.error("--as-of-version must be in 1..--events")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg-host must be a loopback address")

    pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"minqing_bench_{uuid.uuid4().hex[:12]}"
    url = pg.url(dbname)
    signing = Ed25519PrivateKey.generate()
    env = minqing_env(pg, dbname)
    env["MINQING_AUDIT_SIGNING_KEY"] = base64.b64encode(signing.private_bytes_raw()).decode()
    env["MINQING_EMBEDDED_WORKERS"] = "false"  # the read models are not what is measured
    print(
        f"bench: PostgreSQL {pg.server_version()} on {pg.host}:{pg.port}, database {dbname}; "
        f"a concern of {args.events} events, {args.verify_events} more events for verify"
    )
    pg.create_database(dbname)
    try:
        settings = Settings(
            database_url=url,
            master_key=env["MINQING_MASTER_KEY"],
            audit_signing_key=env["MINQING_AUDIT_SIGNING_KEY"],
        )
        app = open_minqing(settings)
        try:
            load_seconds, concern = timed(lambda: load_long_concern(app, args.events))
            many_seconds, more = timed(lambda: load_many(app, args.verify_events))
            total = args.events + more
            print(
                f"loaded {args.events} events in {load_seconds:.1f} s and {more} more in"
                f" {many_seconds:.1f} s ({more / many_seconds if many_seconds else 0:,.0f}"
                " events/s through Application.save)"
            )
            chain_seconds, chained = timed(lambda: audit.extend_chain(app.db))
            audit.make_checkpoint(app.db, signing)
            print(
                f"extend_chain: {chained} events in {chain_seconds:.2f} s"
                f" ({chained / chain_seconds if chain_seconds else 0:,.0f} events/s)"
            )
            timings, http_verify_seconds, http_report = measure_http(
                env, concern, as_of, args.requests
            )
            verify, scan, checked = measure_verify(app, url, audit.public_key_b64(signing))
        finally:
            app.close()
    finally:
        pg.drop_database(dbname)

    print()
    print(f"(a) one concern of {args.events} events, {args.requests} requests each, 1 client")
    for t in timings:
        print(
            f"  {t.label:<34} p50 {t.p50_ms:7.2f} ms  p99 {t.p99_ms:7.2f} ms"
            f"  ({t.body_bytes:,} bytes)"
        )
    http_rate = http_report.get("checked", 0) / http_verify_seconds if http_verify_seconds else 0
    print(
        f"  {'GET /api/v1/audit/verify (once)':<34} {http_verify_seconds * 1000:9.0f} ms"
        f"  ({http_report.get('checked')} events, {http_rate:,.0f} events/s,"
        f" ok={http_report.get('ok')})"
    )
    print(f"(b) verify over {checked} events (of {total} stored), median of {REPEATS}")
    for r in (verify, scan):
        runs = ", ".join(f"{s:.2f}" for s in r.seconds)
        print(f"  {r.label:<34} {r.rate:12,.0f} events/s  ({r.median_seconds:.2f} s; runs {runs})")
    ratio = verify.rate / scan.rate if scan.rate else 0.0
    print(f"  {'ratio verify ÷ scan':<34} {ratio:12.3f}")
    history_p50 = timings[0].p50_ms
    print(
        f"targets: history p50 {history_p50:.1f} ms (≤ {TARGET_HISTORY_MS:.0f}),"
        f" verify {verify.rate:,.0f} events/s (≥ {TARGET_VERIFY_RATE:,.0f})"
    )
    meets = history_p50 <= TARGET_HISTORY_MS and verify.rate >= TARGET_VERIFY_RATE
    print(f"targets met: {'yes' if meets else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
