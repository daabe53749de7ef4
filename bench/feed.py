"""Pull-feed throughput against a plain scan of the events table, on PostgreSQL.

Creates a fresh PostgreSQL database, a principal (integrator + staff) and its token through
the CLI, then loads N real domain events in-process through the Minqing application: each
concern is raised and referred (`Concern.Raised` + `Concern.Referred`, both published),
many concerns per `app.save(...)`. The load saves the Concern aggregates only, not the
reference/tracking Index aggregates the API path also writes, so every row in the table
is a published event and the feed and the scan read the same rows. Then it starts the real
server (`minqing serve`, embedded workers off so the projections do not catch up on the
load while the feed is read) and, in each round:

- **feed**: one consumer reads `GET /api/v1/events?after=&limit=500` from 0 to the end
  (until a page comes back empty), keeping `next_after`; it checks that it got every event
  of the table exactly once, in log order, with the right CloudEvents `id`;
- **scan**: one psycopg connection reads `minqing_events` ordered by notification_id in
  batches of 500 (keyset: `WHERE notification_id > last`), the same columns the feed
  reads: the ceiling.

Then **webhooks** (when workers/webhooks.py and api/routes/webhooks.py exist): a loopback
receiver in this process is subscribed through `POST /api/v1/webhooks`
(`MINQING_WEBHOOKS_ALLOW_PRIVATE=1`), `minqing worker webhooks` runs as its own process,
and after a few warm-up events it times how long N new events take from the first write
until the receiver holds them all; the receiver checks every signature and each concern's
order, and counts duplicates.

It prints the load time, events/s of feed and scan, their ratio and deliveries/s, drops
the database and stops by itself. Figures only; nothing here is asserted.

    .venv/bin/python bench/feed.py
    .venv/bin/python bench/feed.py --events 20000 --rounds 1 --webhook-events 0

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI).
"""

from __future__ import annotations

import argparse
import hmac
import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import psycopg
from common import (
    LOAD_BATCH,
    REPO,
    Loader,
    MinqingProcess,
    Postgres,
    Server,
    add_principal,
    cli,
    minqing_env,
    percentile,
)
from psycopg import sql

from domain.cloudevents import event_id

TARGET_EVENTS_PER_SECOND = 5000.0
EVENTS_TABLE = "minqing_events"
# Upper bounds so that nothing here can run away.
MAX_EVENTS = 1_000_000
MAX_ROUNDS = 10
REQUEST_TIMEOUT = 60.0
WEBHOOK_FILES = ("workers/webhooks.py", "api/routes/webhooks.py")
WEBHOOK_WARMUP_EVENTS = 20
WEBHOOK_WARMUP_TIMEOUT = 180.0
MAX_WEBHOOK_EVENTS = 100_000


@dataclass
class Pass:
    """One read of the whole log: what it saw, how long it took, each request's latency."""

    label: str
    positions: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    payload_bytes: int = 0
    error: str | None = None

    @property
    def count(self) -> int:
        return len(self.positions)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    def line(self, unit: str) -> str:
        lat = sorted(self.latencies)
        return (
            f"{self.label:<22} {self.count:>8} in {self.elapsed:6.2f} s  {self.rate:9.0f} "
            f"{unit}/s  per request p50 {percentile(lat, 50) * 1000:6.1f} ms  "
            f"p99 {percentile(lat, 99) * 1000:6.1f} ms"
        )


# --- the two readers -------------------------------------------------------------------


def read_feed(base_url: str, token: str, page: int, expected: int) -> Pass:
    """One consumer: the pull feed from 0 until a page comes back empty."""
    run = Pass(f"feed (HTTP, pages of {page})")
    headers = {"Authorization": f"Bearer {token}"}
    max_pages = expected // page + 10
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        after = 0
        began = time.perf_counter()
        for _ in range(max_pages):
            sent = time.perf_counter()
            response = client.get("/api/v1/events", params={"after": after, "limit": page})
            if response.status_code != 200:
                run.error = f"HTTP {response.status_code} after {after}: {response.text[:200]}"
                break
            body = response.json()
            run.latencies.append(time.perf_counter() - sent)
            run.payload_bytes += len(response.content)
            events = body["events"]
            if not events:
                break
            for e in events:
                run.positions.append(int(e["sequence"]))
                run.ids.append(e["id"])
            next_after = int(body["next_after"])
            if next_after <= after:
                run.error = f"next_after {next_after} did not move past {after}"
                break
            after = next_after
        else:
            run.error = f"no empty page after {max_pages} pages"
        run.elapsed = time.perf_counter() - began
    return run


def scan_table(url: str, batch: int, expected: int) -> Pass:
    """The ceiling: the events table by notification_id, `batch` rows at a time."""
    run = Pass(f"scan (psycopg, {batch} rows)")
    query = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {}"
        " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    ).format(sql.Identifier(EVENTS_TABLE))
    max_batches = expected // batch + 10
    rows: list[tuple[int, uuid.UUID, int]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        after = 0
        began = time.perf_counter()
        for _ in range(max_batches):
            sent = time.perf_counter()
            fetched = conn.execute(query, (after, batch), prepare=True).fetchall()
            run.latencies.append(time.perf_counter() - sent)
            if not fetched:
                break
            rows.extend((int(r[0]), r[1], int(r[2])) for r in fetched)
            run.payload_bytes += sum(len(r[4]) for r in fetched)
            after = int(fetched[-1][0])
        else:
            run.error = f"no empty batch after {max_batches} batches"
        run.elapsed = time.perf_counter() - began
    # After the clock: the CloudEvents id each row should have in the feed.
    run.positions = [r[0] for r in rows]
    run.ids = [event_id(r[1], r[2]) for r in rows]
    return run


def check_feed(feed: Pass, table: Pass, loaded: int) -> str | None:
    """None when the feed gave every event of the table once, in order; else what is wrong."""
    if feed.error:
        return feed.error
    if table.count != loaded:
        return f"the table holds {table.count} events, {loaded} were loaded"
    if feed.positions != table.positions:
        seen = set(feed.positions)
        missing = sum(1 for p in table.positions if p not in seen)
        repeated = len(feed.positions) - len(seen)
        ordered = all(a < b for a, b in zip(feed.positions, feed.positions[1:], strict=False))
        return (
            f"feed gave {feed.count} events, table has {table.count}: {missing} missing, "
            f"{repeated} repeated, {'in' if ordered else 'out of'} order"
        )
    if feed.ids != table.ids:
        wrong = sum(1 for a, b in zip(feed.ids, table.ids, strict=True) if a != b)
        return f"{wrong} events carry a CloudEvents id other than expected"
    return None


# --- webhooks --------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on loopback: checks each signature, counts distinct webhook-ids,
    duplicates, and events of one subject arriving out of version order."""

    def __init__(self, secret: str) -> None:
        # Imported here: the rest of the bench runs where webhooks are not built.
        from adapters.webhooks import secret_key, sign

        self.key = secret_key(secret)
        self._sign = sign
        self.seen: set[str] = set()
        self.duplicates = 0
        self.bad_signatures = 0
        self.out_of_order = 0
        self.last_at = 0.0
        self._versions: dict[str, int] = {}
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                ok = receiver.accept(
                    self.headers.get("webhook-id", ""),
                    self.headers.get("webhook-timestamp", ""),
                    self.headers.get("webhook-signature", ""),
                    body,
                )
                self.send_response(204 if ok else 401)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per delivery would drown the figures

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/minqing"
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="bench-receiver", daemon=True
        )
        self._thread.start()

    @property
    def count(self) -> int:
        with self._changed:
            return len(self.seen)

    def accept(self, msg_id: str, timestamp: str, header: str, body: bytes) -> bool:
        """Record one delivery; False when its signature does not verify."""
        expected = self._sign(self.key, msg_id, int(timestamp), body) if timestamp.isdigit() else ""
        if not expected or not any(hmac.compare_digest(expected, s) for s in header.split()):
            with self._changed:
                self.bad_signatures += 1
            return False
        event = json.loads(body)
        subject, version = str(event["subject"]), int(event["data"]["version"])
        with self._changed:
            if msg_id in self.seen:
                self.duplicates += 1
                return True
            if version <= self._versions.get(subject, 0):
                self.out_of_order += 1
            self._versions[subject] = max(version, self._versions.get(subject, 0))
            self.seen.add(msg_id)
            self.last_at = time.perf_counter()
            self._changed.notify_all()
        return True

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until `count` distinct events arrived; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.seen) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 1.0))
        return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def measure_webhooks(
    env: dict[str, str], base_url: str, token: str, loader: Loader, events: int
) -> tuple[str, str | None]:
    """Subscribe a loopback receiver, run `minqing worker webhooks`, write `events` new
    events and time until all are delivered: the report line, and what went wrong."""
    if not all((REPO / f).exists() for f in WEBHOOK_FILES):
        return "webhooks: not measured (not built yet)", None
    try:
        from adapters.webhooks import new_secret
    except ImportError as exc:
        return f"webhooks: not measured (adapters.webhooks: {exc})", None
    secret = new_secret()
    receiver = Receiver(secret)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as c:
            body = {"url": receiver.url, "description": "bench/feed.py", "secret": secret}
            made = c.post("/api/v1/webhooks", json=body)
        if made.status_code != 201:
            why = f"subscribe: HTTP {made.status_code} {made.text[:200]}"
            return f"webhooks: not measured ({why})", why
        worker = MinqingProcess(env, ["worker", "webhooks"])
        try:
            # A few events first: the dispatcher follows the log past the load (it reads
            # and skips events older than the subscription) and takes the leader's lock.
            loader.write(WEBHOOK_WARMUP_EVENTS)
            if not receiver.wait_for(WEBHOOK_WARMUP_EVENTS, WEBHOOK_WARMUP_TIMEOUT):
                tail = worker.output(5).strip().replace("\n", " | ")
                why = (
                    f"{receiver.count}/{WEBHOOK_WARMUP_EVENTS} warm-up events delivered in "
                    f"{WEBHOOK_WARMUP_TIMEOUT:.0f} s; worker: {tail}"
                )
                return f"webhooks: not measured ({why})", why
            before = receiver.count
            began = time.perf_counter()
            write_seconds = loader.write(events)
            limit = 60 + events / 10
            done = receiver.wait_for(before + events, limit)
            delivered = receiver.count - before
            elapsed = receiver.last_at - began
        finally:
            worker.stop()
    finally:
        receiver.close()
    rate = delivered / elapsed if elapsed > 0 else 0.0
    problems = [
        f"{n} {what}"
        for n, what in (
            (receiver.bad_signatures, "bad signatures"),
            (receiver.duplicates, "duplicates"),
            (receiver.out_of_order, "out of order within a concern"),
        )
        if n
    ]
    if not done:
        problems.insert(0, f"only {delivered} of {events} delivered within {limit:.0f} s")
    trouble = "; ".join(problems) or None
    line = (
        f"webhooks: {delivered} events delivered in {elapsed:.2f} s from the first write "
        f"({write_seconds:.2f} s to write them): {rate:.0f} deliveries/s "
        f"(one subscription, `minqing worker webhooks`; {trouble or 'signatures ok, in order'})"
    )
    return line, trouble


# --- report ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events to load (100000)")
    parser.add_argument("--page", type=int, default=500, help="feed page and scan batch (500)")
    parser.add_argument("--rounds", type=int, default=3, help="feed + scan rounds (3)")
    parser.add_argument(
        "--webhook-events", type=int, default=5000, help="events to deliver (5000; 0: skip)"
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    if not 2 <= args.events <= MAX_EVENTS or args.events % 2:
        parser.error(f"--events must be even and in 2..{MAX_EVENTS}")
    if not 1 <= args.page <= 1000:
        parser.error("--page must be in 1..1000 (the feed's largest page)")
    if not 1 <= args.rounds <= MAX_ROUNDS:
        parser.error(f"--rounds must be in 1..{MAX_ROUNDS}")
    if not 0 <= args.webhook_events <= MAX_WEBHOOK_EVENTS or args.webhook_events % 2:
        parser.error(f"--webhook-events must be even and in 0..{MAX_WEBHOOK_EVENTS}")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg-host must be a loopback address")

    pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"minqing_bench_{uuid.uuid4().hex[:12]}"
    print(
        f"bench: PostgreSQL {pg.server_version()} on {pg.host}:{pg.port}, database {dbname}, "
        f"{args.events} events, pages of {args.page}, {args.rounds} rounds"
    )
    feeds: list[Pass] = []
    scans: list[Pass] = []
    problems: list[str] = []
    pg.create_database(dbname)
    try:
        env = minqing_env(pg, dbname)
        # Projections and the webhook dispatcher stay out of the server: they would catch
        # up on the load while the feed is read. Webhooks run in `minqing worker webhooks`.
        env["MINQING_EMBEDDED_WORKERS"] = "false"
        env["MINQING_WEBHOOKS_ALLOW_PRIVATE"] = "1"  # the receiver is on loopback
        cli(env, "db", "init")
        token = add_principal(env, "bench", ["integrator", "staff"])
        loader = Loader(env, "bench")
        try:
            seconds = loader.write(args.events)
            print(
                f"loaded {args.events} events ({args.events // 2} concerns raised + referred "
                f"in-process, {LOAD_BATCH} concerns per save) in {seconds:.1f} s "
                f"({args.events / seconds:.0f} events/s)"
            )
            server = Server(env)
            try:
                server.wait_ready()
                for n in range(1, args.rounds + 1):
                    scan = scan_table(pg.url(dbname), args.page, args.events)
                    feed = read_feed(server.base_url, token, args.page, args.events)
                    scans.append(scan)
                    feeds.append(feed)
                    wrong = check_feed(feed, scan, args.events) or scan.error
                    verdict = f"WRONG: {wrong}" if wrong else "every event once, in order"
                    print(f"round {n}: {verdict}")
                    print("  " + scan.line("rows"))
                    print("  " + feed.line("events"))
                    if wrong:
                        problems.append(f"round {n}: {wrong}")
                webhooks, trouble = (
                    measure_webhooks(env, server.base_url, token, loader, args.webhook_events)
                    if args.webhook_events
                    else ("webhooks: not measured (--webhook-events 0)", None)
                )
                if trouble:
                    problems.append(f"webhooks: {trouble}")
            finally:
                server.stop()
        finally:
            loader.close()
    finally:
        pg.drop_database(dbname)

    feed_rate = statistics.median(f.rate for f in feeds)
    scan_rate = statistics.median(s.rate for s in scans)
    ratio = feed_rate / scan_rate if scan_rate else 0.0
    per_event = statistics.median(f.payload_bytes / max(1, f.count) for f in feeds)
    print(f"median of {args.rounds} rounds:")
    print(f"  {'feed':<24} {feed_rate:9.0f} events/s  ({per_event:.0f} bytes of JSON per event)")
    print(f"  {'scan (ceiling)':<24} {scan_rate:9.0f} rows/s")
    print(f"  {'ratio feed ÷ scan':<24} {ratio:9.3f}")
    print(f"  {webhooks}")
    met = feed_rate >= TARGET_EVENTS_PER_SECOND and not problems
    print(f"target feed ≥ {TARGET_EVENTS_PER_SECOND:.0f} events/s met: {'yes' if met else 'no'}")
    for p in problems:
        print(f"  problem: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
