"""Seeing patterns at scale, on PostgreSQL: similar-concern suggestions through HTTP, hotspot
detection over the whole log, and the hotspot read model's cost per new concern.

Creates a fresh PostgreSQL database and a staff principal through the CLI, then loads in
process (real domain events, LOAD_BATCH aggregates per save, as bench/projections.py does):
20 grids of 50 places each (one of them the office's own address, all with a point) and
50,000 concerns raised over the last 120 days (in the log in the order they were raised,
as a real log is), in every category, 70 % at a place and 30 % with only a point near one
(so hotspots by place and by cell). Then:

- **detection over the whole log**: `minqing projections rebuild` (every read model in one
  pass), then `minqing projections rebuild hotspots` on its own: the hotspot read model
  built from position zero (every concern a sighting, every key refolded by the rule), as
  the CLI reports its time;
- **incremental**: 200 more concerns saved one by one, each applied to the live hotspot
  read model in a transaction of its own (`Hotspots.apply_batch`, as the runner does a
  batch of one): p50/p95 per concern; and the same 200 as one batch;
- **similar concerns**: `minqing serve` (embedded workers on), then 400 requests of
  `GET /api/v1/concerns/similar` one after another with a title, category, grid and a place
  or a point: p50/p95/p99.

The machine's load average (1 min) is printed before and after: the machine may be shared.
Figures only; nothing is asserted. The database is dropped at the end.

    .venv/bin/python bench/patterns.py
    .venv/bin/python bench/patterns.py --concerns 10000 --requests 100

Needs PostgreSQL on 127.0.0.1:5432 with user postgres and trust auth (as in CI).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

import httpx
from common import (
    LOAD_BATCH,
    TEXTS,
    Postgres,
    Server,
    add_principal,
    cli,
    minqing_env,
    percentile,
)

from application.bootstrap import open_minqing
from application.minqing import Minqing
from application.settings import Settings
from domain.concern import Concern
from domain.geo import METRES_PER_DEGREE_LAT, Point
from domain.permissions import actor_to_raise
from domain.place import Place, PlaceKind
from domain.principal import Principal
from domain.vocabulary import Category, Channel, Library
from projections.base import Recorded
from projections.hotspots import HOTSPOTS, Hotspots

GRIDS = 20
PLACES_PER_GRID = 50
DAYS = 120
INCREMENTAL = 200
TARGET_SIMILAR_P95_MS = 100.0
TARGET_DETECTION_S = 5.0
REBUILT_ONE = re.compile(r"rebuilt (\S+): (\d+) events to position (\d+) in ([\d.]+) s")
CATEGORIES = list(Category)


def _centre(grid: int) -> Point:
    # Grids 3 km apart on a line of latitude near Hangzhou.
    return Point(30.25, 120.10 + grid * 0.031)


def _near(centre: Point, rng: random.Random, metres: float) -> Point:
    d = metres / METRES_PER_DEGREE_LAT
    return Point(centre.lat + rng.uniform(-d, d), centre.lng + rng.uniform(-d, d))


class _Undo(Exception):
    """Roll the timed transaction back."""


class Loader:
    """The application in this process, writing places and concerns as one principal."""

    def __init__(self, env: dict[str, str], name: str, seed: int = 16) -> None:
        settings = Settings(
            database_url=env["MINQING_DATABASE_URL"],
            master_key=env["MINQING_MASTER_KEY"],
            embedded_workers=False,
        )
        self.app: Minqing = open_minqing(settings)
        self.principal: Principal = self.app.accounts.find(name)
        self.rng = random.Random(seed)
        self.places: dict[str, list[Place]] = {}
        self.raised = 0

    def load_places(self) -> None:
        now = self.app.clock()
        batch: list[Place] = []
        for g in range(1, GRIDS + 1):
            grid = f"g{g:02d}"
            centre = _centre(g)
            self.places[grid] = [
                Place.register(
                    grid=grid,
                    name="居委会" if n == 0 else f"{n}号楼",
                    kind=PlaceKind.BUILDING,
                    point=_near(centre, self.rng, 900),
                    office=n == 0,
                    actor_id=self.principal.id,
                    actor_role="staff",
                    at=now,
                )
                for n in range(PLACES_PER_GRID)
            ]
            batch += self.places[grid]
        for start in range(0, len(batch), LOAD_BATCH):
            self.app.save(*batch[start : start + LOAD_BATCH])

    def concern(self, age_days: float = 0.0) -> Concern:
        rng = self.rng
        grid = f"g{rng.randint(1, GRIDS):02d}"
        place = rng.choice(self.places[grid])
        point = place.point
        assert point is not None
        at = self.app.clock() - timedelta(days=age_days)
        self.raised += 1
        title, description = rng.choice(TEXTS)
        with_place = rng.random() < 0.7
        return Concern.raise_new(
            reference=f"MQ-{at.year}-{self.raised:07d}",
            tracking_code=secrets.token_hex(6).upper(),
            title=title,
            description=description,
            category=rng.choice(CATEGORIES),
            library=Library.PROBLEM,
            channel=Channel.VISIT,
            grid=grid,
            building=None,
            priority_visit=None,
            resident_ref=None,
            resident_data=None,
            anonymous=False,
            actor=actor_to_raise(self.principal, grid),
            at=at,
            place=place.id if with_place else None,
            location=None
            if with_place
            else _near(Point(float(point["lat"]), float(point["lng"])), rng, 60),
        )

    def load_concerns(self, count: int) -> float:
        # Raised over the last DAYS days, in the log in the order they were raised.
        ages = sorted((self.rng.uniform(0, DAYS) for _ in range(count)), reverse=True)
        began = time.perf_counter()
        for start in range(0, count, LOAD_BATCH):
            self.app.save(*(self.concern(age) for age in ages[start : start + LOAD_BATCH]))
        return time.perf_counter() - began

    def incremental(self, count: int) -> tuple[list[float], float]:
        """`count` new concerns applied to the live read model one by one (seconds each),
        then `count` more as one batch (seconds). Each application is rolled back once
        timed, so the projection runner applies the events afterwards as usual."""
        model = Hotspots()
        each: list[float] = []
        for _ in range(count):
            (recording,) = self.app.save(self.concern())
            each.append(self._timed(model, self._recorded(recording.notification.id)))
        recordings = self.app.save(*(self.concern() for _ in range(count)))
        first = min(r.notification.id for r in recordings)
        return each, self._timed(model, self._recorded(first, count))

    def _timed(self, model: Hotspots, batch: list[Recorded]) -> float:
        took = 0.0
        try:
            with self.app.db.transaction() as cur:
                began = time.perf_counter()
                model.apply_batch(cur, batch)
                took = time.perf_counter() - began
                raise _Undo
        except _Undo:
            pass
        return took

    def _recorded(self, start: int, limit: int = 1) -> list[Recorded]:
        found = self.app.recorder.select_notifications(start, limit)
        return [Recorded(n, self.app) for n in found]

    def close(self) -> None:
        self.app.close()


def similar_requests(
    base_url: str, token: str, places: dict[str, list[Place]], n: int
) -> list[float]:
    rng = random.Random(7)
    took: list[float] = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        for k in range(n):
            grid = f"g{rng.randint(1, GRIDS):02d}"
            place = rng.choice(places[grid])
            title, description = rng.choice(TEXTS)
            params: dict[str, str] = {
                "title": title,
                "description": description,
                "category": rng.choice(CATEGORIES).value,
                "grid": grid,
            }
            if k % 2:
                params["place"] = str(place.id)
            else:
                assert place.point is not None
                params["lat"] = str(place.point["lat"])
                params["lng"] = str(place.point["lng"])
            began = time.perf_counter()
            r = c.get("/api/v1/concerns/similar", params=params)
            took.append(time.perf_counter() - began)
            if r.status_code != 200:
                raise SystemExit(f"bench: similar answered {r.status_code}: {r.text[:200]}")
    return took


def ms(values: list[float], q: float) -> float:
    return percentile(sorted(values), q) * 1000


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--concerns", type=int, default=50_000, help="concerns (50000)")
    parser.add_argument("--requests", type=int, default=400, help="similar requests (400)")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    if not 100 <= args.concerns <= 500_000 or not 10 <= args.requests <= 5000:
        parser.error("--concerns must be in 100..500000 and --requests in 10..5000")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg-host must be a loopback address")

    pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"minqing_bench_{uuid.uuid4().hex[:12]}"
    print(
        f"bench: PostgreSQL {pg.server_version()}, database {dbname}, commit {commit()},"
        f" {args.concerns} concerns in {GRIDS} grids; {load_line()}"
    )
    pg.create_database(dbname)
    try:
        env = minqing_env(pg, dbname)
        env["MINQING_EMBEDDED_WORKERS"] = "true"
        cli(env, "db", "init")
        token = add_principal(env, "bench", ["staff"])
        loader = Loader(env, "bench")
        try:
            loader.load_places()
            seconds = loader.load_concerns(args.concerns)
            print(
                f"loaded {GRIDS * PLACES_PER_GRID} places and {args.concerns} concerns"
                f" in-process in {seconds:.1f} s"
            )
            cli(env, "projections", "rebuild")
            alone = REBUILT_ONE.search(cli(env, "projections", "rebuild", "hotspots"))
            if alone is None:
                raise SystemExit("bench: no rebuild of hotspots reported by the CLI")
            found = loader.app.db.fetchone(f"SELECT COUNT(*) AS n FROM {HOTSPOTS}")  # noqa: S608
            detection = float(alone.group(4))
            print(
                f"hotspot detection over the whole log (`minqing projections rebuild hotspots`):"
                f" {alone.group(2)} events in {detection:.2f} s, {found['n']} hotspots"
                f" (target ≤ {TARGET_DETECTION_S:.0f} s); {load_line()}"
            )
            each, batch = loader.incremental(INCREMENTAL)
            print(
                f"incremental: {INCREMENTAL} concerns one by one: p50 {ms(each, 50):.2f} ms,"
                f" p95 {ms(each, 95):.2f} ms per concern; {INCREMENTAL} in one batch:"
                f" {batch * 1000:.1f} ms ({batch * 1000 / INCREMENTAL:.2f} ms per concern)"
            )
            places = loader.places
        finally:
            loader.close()
        server = Server(env)
        try:
            server.wait_ready()
            took = similar_requests(server.base_url, token, places, args.requests)
        finally:
            server.stop()
        p95 = ms(took, 95)
        print(
            f"similar concerns through HTTP: {args.requests} requests one after another:"
            f" p50 {ms(took, 50):.1f} ms, p95 {p95:.1f} ms, p99 {ms(took, 99):.1f} ms"
            f" (target p95 ≤ {TARGET_SIMILAR_P95_MS:.0f} ms); {load_line()}"
        )
    finally:
        pg.drop_database(dbname)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
