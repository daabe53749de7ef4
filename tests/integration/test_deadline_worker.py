"""`minqing worker deadlines` as a real process on PostgreSQL: it records a passed due date
and an overdue answer once, a second instance waits as standby, and SIGTERM stops each
gracefully (exit status 0)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from domain.vocabulary import DutyRole
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF, add_member, draft, is_postgres, open_app
from tests.integration.test_deadline_watcher import facts

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker(url: str, key: bytes, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m api.cli worker deadlines` configured only by its environment."""
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": url,
        "MINQING_MASTER_KEY": base64.b64encode(key).decode(),
        "MINQING_DEADLINE_CHECK_SECONDS": "0.2",
        "MINQING_FEEDBACK_WINDOW_DAYS": "7",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "deadlines"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_the_worker_process_records_each_fact_once_and_stops_on_sigterm(
    database_url: str, master_key: bytes, tmp_path: Path
) -> None:
    if not is_postgres(database_url):
        pytest.skip("the worker process is the PostgreSQL deployment")
    # The worker runs on the wall clock: the concerns are made twelve days in the past.
    then = datetime.now(UTC) - timedelta(days=12)
    app = open_app(database_url, master_key, clock=lambda: then)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    try:
        owner = add_member(app)
        late = UUID(app.raise_concern(STAFF, draft()).id)
        due = then.date() + timedelta(days=2)
        app.handle_now(late, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)
        waiting = UUID(app.raise_concern(STAFF, draft()).id)
        app.handle_now(waiting, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)
        app.resolve(waiting, STAFF, "更换了6盏路灯")
        ProjectionRunner(app, all_projections()).catch_up()  # the watcher reads the list

        with worker(database_url, master_key, first_log) as first:
            wait_until(lambda: len(facts(app)) == 2)
            with worker(database_url, master_key, second_log) as second:
                wait_until(lambda: "deadline watcher: every" in second_log.read_text())
                time.sleep(1.0)
                assert "leading" not in second_log.read_text()
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=10) == 0
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=10) == 0

        assert sorted(facts(app)) == sorted(
            [(str(late), "DeadlineMissed", due), (str(waiting), "FeedbackOverdue", 1)]
        )
        first_text = first_log.read_text()
        assert "leading the deadline watcher" in first_text
        assert "SIGTERM: stopping" in first_text
        assert "deadline watcher stopped" in first_text
        assert "deadline watcher stopped" in second_log.read_text()
    finally:
        app.close()


def test_a_sweep_once_on_a_database_nobody_initialised_says_what_to_do(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "MINQING_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "worker", "deadlines", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "minqing db init" in done.stderr
    assert "Traceback" not in done.stderr
