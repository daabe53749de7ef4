"""The automatic checkpoint on both stores: one signed checkpoint per period, whatever the
number of schedulers racing for it, each covering every event stored before it."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit
from api.cli import main
from application.minqing import Minqing
from application.settings import Settings
from tests.integration.support import STAFF, draft, is_postgres, open_app, run_together
from workers.checkpoints import CheckpointScheduler, poll_seconds, start_checkpoint_thread

PERIOD = timedelta(hours=24)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Clock:
    """A clock the test sets; every scheduler of a test reads the same one."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now += delta


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def apps(database_url: str, master_key: bytes) -> Iterator[list[Minqing]]:
    """Two applications on one database, as two processes would open it."""
    opened = [open_app(database_url, master_key) for _ in range(2)]
    for app in opened:
        audit.install_guards(app.db)
    try:
        yield opened
    finally:
        for app in opened:
            app.close()


def raise_some(app: Minqing, n: int = 2) -> None:
    for _ in range(n):
        app.raise_concern(STAFF, draft())


def head_position(app: Minqing) -> int:
    return int(app.recorder.max_notification_id() or 0)


def test_the_first_check_signs_and_the_next_one_waits_for_the_period(
    apps: list[Minqing], key: Ed25519PrivateKey, clock: Clock
) -> None:
    app = apps[0]
    raise_some(app)
    scheduler = CheckpointScheduler(app.db, key, PERIOD, clock)

    first = scheduler.run_once()
    clock.advance(PERIOD - timedelta(seconds=1))
    raise_some(app)
    too_soon = scheduler.run_once()
    clock.advance(timedelta(seconds=1))
    second = scheduler.run_once()

    assert first is not None
    assert too_soon is None
    assert second is not None
    assert [c.signed_at for c in audit.checkpoints(app.db)] == [
        T0.isoformat(),
        (T0 + PERIOD).isoformat(),
    ]
    assert scheduler.last_signed_at() == T0 + PERIOD


def test_the_chain_is_extended_first_so_the_checkpoint_covers_every_stored_event(
    apps: list[Minqing], key: Ed25519PrivateKey, clock: Clock
) -> None:
    app = apps[0]
    raise_some(app, 5)  # nobody has extended the chain yet

    cp = CheckpointScheduler(app.db, key, PERIOD, clock).run_once()

    assert cp is not None
    assert cp.position == head_position(app)
    assert cp.signature_valid(audit.public_key_b64(key))
    report = audit.verify(app.db, audit.public_key_b64(key))
    assert report.ok, report.as_dict()
    assert report.checkpoints_checked == 1


def test_nothing_is_signed_on_an_empty_log(
    apps: list[Minqing], key: Ed25519PrivateKey, clock: Clock
) -> None:
    assert CheckpointScheduler(apps[0].db, key, PERIOD, clock).run_once() is None
    assert audit.checkpoints(apps[0].db) == []


def test_a_checkpoint_made_by_hand_counts_as_the_periods_checkpoint(
    apps: list[Minqing], key: Ed25519PrivateKey, clock: Clock
) -> None:
    app = apps[0]
    raise_some(app)
    audit.make_checkpoint(app.db, key, now=T0)
    scheduler = CheckpointScheduler(app.db, key, PERIOD, clock)

    clock.advance(PERIOD / 2)
    assert scheduler.run_once() is None
    clock.advance(PERIOD / 2)
    assert scheduler.run_once() is not None


def test_racing_schedulers_make_exactly_one_checkpoint_per_period(
    apps: list[Minqing], key: Ed25519PrivateKey, clock: Clock
) -> None:
    # Two per application: two processes, each with (say) two API workers, all checking at
    # the very same moment on a clock that has just passed the period.
    schedulers = [CheckpointScheduler(app.db, key, PERIOD, clock) for app in apps for _ in "ab"]
    periods = 4
    made_per_period = []
    for _ in range(periods):
        raise_some(apps[0])
        outcomes = run_together([s.run_once for s in schedulers])
        assert [o.error for o in outcomes if o.error is not None] == []
        made = [o.value for o in outcomes if o.value is not None]
        made_per_period.append(len(made))
        # The one that was made covers every event stored before the race.
        assert made[0].position == head_position(apps[0])
        # Within the period, nobody signs again.
        clock.advance(PERIOD - timedelta(minutes=1))
        assert [o.value for o in run_together([s.run_once for s in schedulers])] == [None] * 4
        clock.advance(timedelta(minutes=1))

    assert made_per_period == [1] * periods
    cps = audit.checkpoints(apps[0].db)
    assert [c.signed_at for c in cps] == [(T0 + i * PERIOD).isoformat() for i in range(periods)]
    report = audit.verify(apps[1].db, audit.public_key_b64(key))
    assert report.ok, report.as_dict()
    assert report.checkpoints_checked == periods


def test_the_background_thread_signs_once_and_stops_when_asked(
    apps: list[Minqing], database_url: str, tmp_path: Path
) -> None:
    app = apps[0]
    raise_some(app)
    signing = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    settings = Settings(
        database_url=database_url,
        audit_signing_key=signing,
        audit_signing_key_file=tmp_path / "unused.key",
    )

    stop = start_checkpoint_thread(app, settings)
    try:
        for _ in range(200):
            if audit.checkpoints(app.db):
                break
            threading.Event().wait(0.05)
    finally:
        stop()

    assert len(audit.checkpoints(app.db)) == 1


def test_between_checkpoints_the_thread_keeps_the_chain_following_the_log(
    apps: list[Minqing], database_url: str, tmp_path: Path
) -> None:
    app = apps[0]
    signing = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    settings = Settings(
        database_url=database_url,
        audit_signing_key=signing,
        audit_signing_key_file=tmp_path / "unused.key",
    )
    stop = start_checkpoint_thread(app, settings)
    try:
        raise_some(app, 3)  # after the first check: only following the log chains them
        head = head_position(app)
        deadline = time.monotonic() + 15
        while audit.chain_head(app.db).position < head:
            assert time.monotonic() < deadline, "the chain did not follow the log"
            time.sleep(0.1)
    finally:
        stop()

    assert audit.chain_head(app.db).position == head
    assert len(audit.checkpoints(app.db)) <= 1  # a day has not passed: no second one
    assert audit.verify(app.db).ok


def test_without_a_signing_key_the_thread_keeps_the_chain_but_signs_nothing(
    apps: list[Minqing], database_url: str, tmp_path: Path
) -> None:
    if not is_postgres(database_url):
        pytest.skip("the embedded store makes its key on first use")
    app = apps[0]
    settings = Settings(database_url=database_url, audit_signing_key_file=tmp_path / "none.key")

    stop = start_checkpoint_thread(app, settings)
    try:
        raise_some(app)
        head = head_position(app)
        deadline = time.monotonic() + 15
        while audit.chain_head(app.db).position < head:
            assert time.monotonic() < deadline, "the chain did not follow the log"
            time.sleep(0.1)
    finally:
        stop()

    assert audit.checkpoints(app.db) == []
    assert not (tmp_path / "none.key").exists()


def test_the_worker_command_checks_once_and_signs_only_when_due(
    apps: list[Minqing],
    database_url: str,
    master_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raise_some(apps[0])
    signing = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    monkeypatch.setenv("MINQING_AUDIT_SIGNING_KEY", signing)
    monkeypatch.setenv("MINQING_AUDIT_CHECKPOINT_HOURS", "24")

    assert main(["worker", "checkpoints", "--once"]) == 0
    assert main(["worker", "checkpoints", "--once"]) == 0

    out = capsys.readouterr().out
    assert "signed" in out
    assert "no checkpoint due" in out
    assert len(audit.checkpoints(apps[0].db)) == 1


def test_the_scheduler_polls_often_enough_for_short_periods_and_rarely_for_long_ones() -> None:
    assert poll_seconds(timedelta(hours=24)) == 300.0
    assert poll_seconds(timedelta(seconds=30)) == 3.0
    assert poll_seconds(timedelta(seconds=1)) == 1.0


@pytest.mark.parametrize("hours", [0, -1])
def test_a_period_that_is_not_positive_is_refused(
    apps: list[Minqing], key: Ed25519PrivateKey, hours: int
) -> None:
    with pytest.raises(ValueError, match="positive"):
        CheckpointScheduler(apps[0].db, key, timedelta(hours=hours))
