"""`minqing worker projections` as a real process: it feeds the read models and stops on
SIGTERM; on PostgreSQL a second instance waits as standby and takes over, and a worker
killed with SIGKILL in the middle of a batch, then restarted, neither loses nor
double-counts anything."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from application.minqing import Minqing
from projections.registry import all_projections, names
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF, draft, is_postgres, open_app, raw_connection
from tests.integration.test_projections import assert_list_is_the_fold, counted, log_counts

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker(
    url: str, key: bytes, log: Path, app_name: str = "minqing-test-worker", batch: int = 500
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m api.cli worker projections` configured only by its environment."""
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": url,
        "MINQING_MASTER_KEY": base64.b64encode(key).decode(),
        # libpq takes the connection's application_name from here: the test finds the
        # worker's own sessions in pg_stat_activity by it.
        "PGAPPNAME": app_name,
    }
    command = [sys.executable, "-m", "api.cli", "worker", "projections", "--batch-size"]
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [*command, str(batch)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


def watcher(app: Minqing) -> Callable[[], bool]:
    """A check that every projection is at the head (a runner never started reads it)."""
    runner = ProjectionRunner(app, all_projections())
    return lambda: all(s.lag == 0 for s in runner.status())


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_the_worker_process_feeds_the_projections_and_stops_on_sigterm(
    database_url: str, master_key: bytes, tmp_path: Path
) -> None:
    app = open_app(database_url, master_key)
    try:
        for _ in range(5):
            app.raise_concern(STAFF, draft())
        log = tmp_path / "worker.log"
        caught_up = watcher(app)
        with worker(database_url, master_key, log) as process:
            wait_until(caught_up)
            app.raise_concern(STAFF, draft())  # and it keeps following the log
            wait_until(caught_up)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        assert "stopped at position" in log.read_text()
        assert_list_is_the_fold(app)
        assert counted(app) == log_counts(app)
    finally:
        app.close()


def leads(log: Path) -> bool:
    """True once the worker writing `log` leads every projection."""
    return log.read_text().count("leading projection") == len(names())


def test_a_second_worker_waits_as_standby_and_takes_over(
    database_url: str, master_key: bytes, tmp_path: Path
) -> None:
    if not is_postgres(database_url):
        pytest.skip("standby behind an advisory lock is the PostgreSQL deployment")
    app = open_app(database_url, master_key)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    caught_up = watcher(app)
    try:
        with worker(database_url, master_key, first_log) as first:
            wait_until(lambda: leads(first_log))
            with worker(database_url, master_key, second_log) as second:
                time.sleep(1.5)
                assert "leading" not in second_log.read_text()
                first.send_signal(signal.SIGTERM)
                assert first.wait(timeout=10) == 0
                # The standby asks again every couple of seconds.
                wait_until(lambda: leads(second_log))
                app.raise_concern(STAFF, draft())
                wait_until(caught_up)
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=10) == 0
        assert_list_is_the_fold(app)
        assert counted(app) == log_counts(app)
    finally:
        app.close()


def test_a_worker_killed_mid_batch_and_restarted_neither_loses_nor_double_counts(
    database_url: str, master_key: bytes, tmp_path: Path
) -> None:
    if not is_postgres(database_url):
        pytest.skip("the kill test runs on PostgreSQL, where workers are separate processes")
    app = open_app(database_url, master_key)
    writer_app = open_app(database_url, master_key)
    stop = threading.Event()

    def write() -> None:  # keeps the worker busy while the test waits for its moment
        while not stop.is_set():
            writer_app.raise_concern(STAFF, draft(title="路灯又坏了"))

    writer = threading.Thread(target=write)
    app_name = f"minqing-kill-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    try:
        for _ in range(150):
            app.raise_concern(STAFF, draft())
        caught_up = watcher(app)
        writer.start()
        with worker(database_url, master_key, log, app_name, batch=20) as process:
            # A session of the worker holding a transaction id is inside a batch: it has
            # moved its position and is writing view rows, not yet committed.
            in_batch = (
                "SELECT count(*) FROM pg_stat_activity"  # noqa: S608
                f" WHERE application_name = '{app_name}' AND backend_xid IS NOT NULL"
            )
            caught = False
            deadline = time.monotonic() + 30
            with raw_connection(database_url) as query:
                while time.monotonic() < deadline and process.poll() is None:
                    if query(in_batch)[0][0]:
                        process.kill()
                        caught = True
                        break
            process.wait(timeout=10)
        assert caught, "never saw the worker inside a batch"

        # What the killed worker committed is whole: every count up to its position.
        runner = ProjectionRunner(app, all_projections())
        position = runner.position("event_counts")
        with raw_connection(database_url) as query:
            sql = "SELECT count(*) FROM minqing_events WHERE notification_id <= "
            logged = query(sql + str(position))
        assert sum(counted(app).values()) == logged[0][0]

        stop.set()
        writer.join()
        with worker(database_url, master_key, log, app_name, batch=20) as process:
            wait_until(caught_up)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0

        assert counted(app) == log_counts(app)
        assert_list_is_the_fold(app)
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
        writer_app.close()
        app.close()
