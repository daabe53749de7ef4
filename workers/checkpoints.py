"""The daily automatic checkpoint: sign the audit chain's head when the last checkpoint is
older than `audit_checkpoint_hours` (24 by default); in between, keep the chain extended over
newly stored events every few seconds.

Each check first extends the chain (so the signature covers every event stored so far),
then decides and signs inside one transaction that holds a lock: an advisory transaction
lock on PostgreSQL, the write lock on SQLite. Two schedulers (two API processes, or the API
and `minqing worker checkpoints`) may therefore run at once: the second waits for the first
to commit, then sees the new checkpoint and signs nothing. At most one checkpoint is made per
period, whoever's clock fires first.

Run it as `minqing worker checkpoints` (one process of its own), or in an API process with
`start_checkpoint_thread(app, settings)`, which returns the callable that stops it. While the
database is unavailable (also when the worker starts) it waits with backoff and logs the
outage once.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit, json_logs
from adapters.database import Database
from adapters.outage import Outage
from adapters.service import Service
from adapters.sessions import probe
from application.bootstrap import open_minqing
from application.minqing import Minqing
from application.settings import Settings
from workers.process import run_service

Clock = Callable[[], datetime]
log = logging.getLogger("minqing.checkpoints")

# Any constant will do: it only has to be the same in every process that signs.
_CHECKPOINT_LOCK = 0x6D71_636B  # "mqck"
# How often a scheduler looks: a check is one small query, and a checkpoint at most a few
# minutes later than the period says does not weaken it.
MAX_POLL_SECONDS = 300.0
MIN_POLL_SECONDS = 1.0
# How often the chain is extended over newly stored events (one small transaction).
FOLLOW_SECONDS = 2.0


# Lexicographic order of `signed_at` is time order: every checkpoint is signed with
# `astimezone(UTC).isoformat()`, and a missing fraction ("…:00+00:00") sorts before any
# fraction ("…:00.5+00:00") because "+" < ".".
_NEWEST = (
    f"SELECT signed_at FROM {audit.CHECKPOINTS_TABLE}"  # noqa: S608
    " ORDER BY signed_at DESC LIMIT 1"
)


def utc_now() -> datetime:
    """The current time in UTC: the scheduler's clock unless a test injects another."""
    return datetime.now(UTC)


def poll_seconds(period: timedelta) -> float:
    """How long a scheduler sleeps between checks: a tenth of the period, 1 s to 5 min."""
    return max(MIN_POLL_SECONDS, min(MAX_POLL_SECONDS, period.total_seconds() / 10))


def signing_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The configured checkpoint key, made on first use on the embedded store only (the
    same rule as `POST /api/v1/audit/checkpoints` and `minqing audit checkpoint`)."""
    return audit.load_signing_key(
        settings.audit_signing_key, settings.audit_signing_key_file, create=settings.embedded
    )


class CheckpointScheduler(Service):
    """Signs the chain's head when the newest checkpoint is at least `period` old."""

    thread_name = "minqing-checkpoints"

    def __init__(
        self,
        db: Database,
        key: Ed25519PrivateKey | None,
        period: timedelta,
        clock: Clock = utc_now,
        outage: Outage | None = None,
    ) -> None:
        if period <= timedelta(0):
            msg = f"the checkpoint period must be positive, not {period}"
            raise ValueError(msg)
        super().__init__(outage or Outage("checkpoint scheduler", log), log)
        self.db = db
        self.key = key
        self.period = period
        self.clock = clock
        audit.ensure_tables(db)

    def last_signed_at(self) -> datetime | None:
        """When the newest checkpoint was signed, or None when there is none."""
        row = self.db.fetchone(_NEWEST)
        return _parse(row["signed_at"]) if row else None

    def run_once(self) -> audit.Checkpoint | None:
        """Extend the chain, then sign its head if a checkpoint is due; the new checkpoint,
        or None when none was due (or there is no event to sign yet)."""
        audit.extend_chain(self.db)
        return self._sign_if_due()

    def _sign_if_due(self) -> audit.Checkpoint | None:
        if self.key is None:
            return None  # no key configured: the chain is kept, nothing is signed
        with self.db.transaction() as cur:
            # A second scheduler queues here, then reads the checkpoint the first one made
            # (on SQLite the transaction's write lock already does it).
            cur.lock(_CHECKPOINT_LOCK)
            # Read under the lock (read committed takes a new snapshot per statement).
            cur.execute(_NEWEST)
            row = cur.fetchone()
            now = self.clock()
            if row is not None and now - _parse(row["signed_at"]) < self.period:
                return None
            cur.execute(
                f"SELECT position, link FROM {audit.CHAIN_TABLE}"  # noqa: S608
                " ORDER BY position DESC LIMIT 1"
            )
            head = cur.fetchone()
            if head is None:
                return None  # an empty log: nothing to attest yet
            cp = audit.sign(self.key, int(head["position"]), str(head["link"]), now)
            cur.execute(
                f"INSERT INTO {audit.CHECKPOINTS_TABLE}"  # noqa: S608
                " (position, link, signed_at, signature, public_key) VALUES (?, ?, ?, ?, ?)",
                (cp.position, cp.link, cp.signed_at, cp.signature, cp.public_key),
            )
        log.info("signed checkpoint at position %d (%s)", cp.position, cp.signed_at)
        return cp

    def run(
        self, stop: threading.Event, poll: float | None = None, follow: float = FOLLOW_SECONDS
    ) -> None:
        """Until `stop` is set: extend the chain every `follow` seconds (it follows the log
        like a projection, so a change to a stored event is caught from moments after it was
        recorded), and check whether a checkpoint is due now and then every `poll` seconds.
        While the database is unavailable it retries with backoff (the outage logged once);
        another failure is logged and tried again at the next round."""
        wait = poll if poll is not None else poll_seconds(self.period)
        next_check = 0.0

        def one_round() -> None:
            nonlocal next_check
            audit.extend_chain(self.db)
            if time.monotonic() >= next_check:
                self._sign_if_due()
                next_check = time.monotonic() + wait

        while not stop.is_set():
            if not self.outage.ready(stop, lambda: probe(self.db)):
                continue
            failed = f"checkpoint round failed; trying again in {follow:.0f} s"
            if self.attempt(one_round, stop, failed).outage:
                continue
            stop.wait(min(follow, wait))


def _parse(signed_at: str) -> datetime:
    moment = datetime.fromisoformat(signed_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_checkpoint_thread(app: Minqing, settings: Settings) -> Callable[[], None]:
    """Run the scheduler in a daemon thread of this process; returns the callable that stops
    it (and waits for a round in progress). Without a signing key the thread still keeps the
    chain following the log, but signs nothing (a warning says so)."""
    key = signing_key(settings)
    if key is None:
        log.warning("no audit signing key (MINQING_AUDIT_SIGNING_KEY): no daily checkpoints")
    scheduler = CheckpointScheduler(app.db, key, timedelta(hours=settings.audit_checkpoint_hours))
    scheduler.start()
    return scheduler.stop


def run_worker(settings: Settings, *, once: bool = False) -> int:
    """`minqing worker checkpoints`: check until SIGTERM/SIGINT, waiting for the database
    while it is unavailable; or check once with `once`."""
    key = signing_key(settings)
    if key is None:
        print("minqing: set MINQING_AUDIT_SIGNING_KEY to sign checkpoints", file=sys.stderr)
        return 2
    period = timedelta(hours=settings.audit_checkpoint_hours)
    if once:
        json_logs.configure()  # one JSON object per line, like `minqing serve`
        one_off = open_minqing(settings)
        try:
            cp = CheckpointScheduler(one_off.db, key, period).run_once()
        finally:
            one_off.close()
        print(f"minqing worker: {'signed ' + cp.signed_at if cp else 'no checkpoint due'}")
        return 0
    return run_service(
        "checkpoint scheduler",
        settings,
        log,
        lambda app, outage: CheckpointScheduler(app.db, key, period, outage=outage),
        started=lambda _: log.info(
            "checkpoint scheduler: signing every %g h", settings.audit_checkpoint_hours
        ),
        stopped=lambda _: log.info("checkpoint scheduler stopped"),
    )
