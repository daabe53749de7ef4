"""The four workers ride out a PostgreSQL that refuses connections, as real processes.

Each worker reaches the database through a TCP proxy (tests/tcp_proxy.py) that the test
switches between refusing (a server down) and forwarding to the real server. Started while
it refuses, a worker keeps running and says so in one line, with no traceback; once the
database answers it says so in one more line and does its work. A second outage while it
runs is ridden out the same way, and SIGTERM stops a worker that is waiting for the database
at once, with exit status 0. The real server is never stopped (other tests use it).
"""

from __future__ import annotations

import base64
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit
from adapters.webhooks import Webhooks
from application.minqing import Minqing
from domain.vocabulary import DutyRole
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.conftest import create_database, drop_database
from tests.integration.outage_support import (
    DOWN,
    UP,
    count,
    dump,
    server_address,
    via,
    wait_until,
    worker,
)
from tests.integration.support import STAFF, add_member, draft, open_app
from tests.integration.test_deadline_watcher import facts
from tests.integration.test_webhooks import INTEGRATOR, published_after
from tests.tcp_proxy import SwitchProxy, switch_proxy
from tests.webhook_receiver import receiving

# Long enough for several attempts at the backoff's first delays (1 s, 2 s).
DOWN_SECONDS = 4.0


@pytest.fixture
def pg_url(postgres_admin: str) -> Iterator[str]:
    """A fresh PostgreSQL database (the outage is PostgreSQL's: SQLite is a local file)."""
    url = create_database(postgres_admin)
    try:
        yield url
    finally:
        drop_database(postgres_admin, url)


def assert_waiting(processes: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path]) -> None:
    """Every worker still runs, and has logged no traceback."""
    for name, process in processes.items():
        assert process.poll() is None, f"{name} exited:\n{logs[name].read_text()}"
        assert "Traceback" not in logs[name].read_text(), logs[name].read_text()


def outages(logs: dict[str, Path], down: int, up: int) -> bool:
    """Every worker has logged `down` outages starting and `up` ending, so far."""
    return all(count(log, DOWN) == down and count(log, UP) == up for log in logs.values())


def wait_for_outages(
    processes: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path], down: int, up: int
) -> None:
    """Wait until every worker has logged `down` outages starting and `up` ending; each
    must keep running meanwhile, without a traceback."""

    def logged() -> bool:
        assert_waiting(processes, logs)
        return outages(logs, down, up)

    try:
        wait_until(logged, what=f"{down} outages logged starting and {up} ending")
    except AssertionError:
        dump(processes.values())
        raise


def stop_while_waiting(
    proxy: SwitchProxy,
    processes: dict[str, subprocess.Popen[bytes]],
    logs: dict[str, Path],
    outage: int,
) -> None:
    """Take the database away once more, then SIGTERM every worker while it waits."""
    proxy.refuse()
    wait_for_outages(processes, logs, outage, outage - 1)
    for process in processes.values():
        process.send_signal(signal.SIGTERM)
    for name, process in processes.items():
        assert process.wait(timeout=5) == 0, logs[name].read_text()
    for log in logs.values():
        assert "Traceback" not in log.read_text()


def late_concern(app: Minqing, owner: UUID) -> None:
    """A concern assigned twelve days ago with a due date ten days ago (the app's clock)."""
    concern = UUID(app.raise_concern(STAFF, draft()).id)
    due = app.clock().date() + timedelta(days=2)
    app.handle_now(concern, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)
    ProjectionRunner(app, all_projections()).catch_up()  # the watcher reads the list


def chained(app: Minqing) -> int:
    row = app.db.fetchone(f"SELECT MAX(position) AS head FROM {audit.CHAIN_TABLE}")  # noqa: S608
    return int(row["head"] or 0)


def signed(app: Minqing) -> int:
    row = app.db.fetchone(f"SELECT COUNT(*) AS n FROM {audit.CHECKPOINTS_TABLE}")  # noqa: S608
    return int(row["n"])


def head(app: Minqing) -> int:
    return int(app.recorder.max_notification_id() or 0)


def test_the_deadline_and_checkpoint_workers_wait_for_the_database(
    pg_url: str, master_key: bytes, tmp_path: Path
) -> None:
    then = datetime.now(UTC) - timedelta(days=12)
    app = open_app(pg_url, master_key, clock=lambda: then)
    key = Ed25519PrivateKey.generate().private_bytes_raw()
    logs = {"deadlines": tmp_path / "deadlines.log", "checkpoints": tmp_path / "checkpoints.log"}
    try:
        audit.ensure_tables(app.db)
        owner = add_member(app)
        late_concern(app, owner)
        with switch_proxy(server_address()) as proxy:
            env = {
                "MINQING_DATABASE_URL": via(proxy, pg_url),
                "MINQING_MASTER_KEY": base64.b64encode(master_key).decode(),
                "MINQING_AUDIT_SIGNING_KEY": base64.b64encode(key).decode(),
                "MINQING_AUDIT_CHECKPOINT_HOURS": "0.0005",  # 1.8 s: one is due at once
                "MINQING_DEADLINE_CHECK_SECONDS": "0.2",
            }
            with (
                worker("deadlines", env, logs["deadlines"]) as deadlines,
                worker("checkpoints", env, logs["checkpoints"]) as checkpoints,
            ):
                processes = {"deadlines": deadlines, "checkpoints": checkpoints}
                # Started while the database refuses: they wait, saying so once.
                wait_for_outages(processes, logs, 1, 0)
                time.sleep(DOWN_SECONDS)
                assert_waiting(processes, logs)
                assert outages(logs, 1, 0)
                assert facts(app) == []
                assert signed(app) == 0

                proxy.forward()
                wait_until(lambda: len(facts(app)) == 1, what="the missed due date recorded")
                wait_until(lambda: signed(app) >= 1, what="a checkpoint signed")
                wait_for_outages(processes, logs, 1, 1)

                # Down again while they run: a second outage, a line each way again.
                proxy.refuse()
                wait_for_outages(processes, logs, 2, 1)
                late_concern(app, owner)  # recorded directly, past the proxy
                time.sleep(DOWN_SECONDS)
                assert_waiting(processes, logs)
                assert len(facts(app)) == 1
                proxy.forward()
                wait_until(lambda: len(facts(app)) == 2, what="the second due date recorded")
                wait_until(lambda: chained(app) == head(app), what="the chain extended")
                wait_for_outages(processes, logs, 2, 2)

                stop_while_waiting(proxy, processes, logs, outage=3)
    finally:
        app.close()


def test_the_projection_and_webhook_workers_wait_for_the_database(
    pg_url: str, master_key: bytes, tmp_path: Path
) -> None:
    app = open_app(pg_url, master_key)
    logs = {"projections": tmp_path / "projections.log", "webhooks": tmp_path / "webhooks.log"}
    runner = ProjectionRunner(app, all_projections())  # makes the read models' tables
    try:
        with switch_proxy(server_address()) as proxy, receiving() as receiver:
            webhooks = Webhooks(app, allow_private=True)
            sub, secret = webhooks.create(INTEGRATOR, receiver.url, ())
            receiver.secrets.append(secret)
            start = webhooks.get(sub.id).start_after
            for _ in range(3):
                app.raise_concern(STAFF, draft())
            env = {
                "MINQING_DATABASE_URL": via(proxy, pg_url),
                "MINQING_MASTER_KEY": base64.b64encode(master_key).decode(),
                "MINQING_WEBHOOKS_ALLOW_PRIVATE": "1",
            }
            with (
                worker("projections", env, logs["projections"]) as projections,
                worker("webhooks", env, logs["webhooks"]) as dispatcher,
            ):
                processes = {"projections": projections, "webhooks": dispatcher}

                def caught_up() -> bool:
                    return all(s.lag == 0 for s in runner.status())

                def delivered() -> bool:
                    return set(published_after(app, start)) <= receiver.accepted_ids()

                wait_for_outages(processes, logs, 1, 0)
                time.sleep(DOWN_SECONDS)
                assert_waiting(processes, logs)
                assert outages(logs, 1, 0)
                assert not caught_up()
                assert receiver.all() == []

                proxy.forward()
                wait_until(caught_up, what="the read models fed")
                wait_until(delivered, what="the events delivered")
                wait_for_outages(processes, logs, 1, 1)

                proxy.refuse()
                wait_for_outages(processes, logs, 2, 1)
                for _ in range(3):
                    app.raise_concern(STAFF, draft())
                time.sleep(DOWN_SECONDS)
                assert_waiting(processes, logs)
                assert not caught_up()
                assert not delivered()
                proxy.forward()
                wait_until(caught_up, what="the read models fed again")
                wait_until(delivered, what="the new events delivered")
                wait_for_outages(processes, logs, 2, 2)

                stop_while_waiting(proxy, processes, logs, outage=3)
        assert receiver.rejected == []
    finally:
        app.close()
