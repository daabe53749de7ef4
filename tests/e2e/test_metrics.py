"""/metrics as an operator scrapes it over a real loopback server: request durations by route
template and status, command outcomes by type, projection batches, webhook deliveries and
process figures, beside the gauges read from the database; and `minqing serve --workers 2`
answering one sum for both processes.

The instruments count per process and the test servers share this one, so each test reads
how far a series moved between two scrapes.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.webhook_receiver import Answer, Received, receiving

RAISE = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "resident": {"name": "张秀英", "phone": "13812345678"},
}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(c: httpx.Client) -> Samples:
    """Every sample of /metrics, parsed by prometheus-client's own parser."""
    r = c.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name{labels}` (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server per backend that may deliver webhooks to loopback, retrying quickly."""
    tmp = tmp_path_factory.mktemp("metrics")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MINQING_WEBHOOKS_ALLOW_PRIVATE", "1")
        env.setenv("MINQING_WEBHOOKS_RETRY_SCHEDULE", "0,0.1,0.2")
        for url in _database(request.param, request, tmp):
            yield from start_server(url, tmp)


def test_requests_are_timed_by_route_template_and_status_and_commands_counted_by_outcome(
    served: Server,
) -> None:
    _, token = served.principal([Role.STAFF])
    with served.client(token) as staff, served.client() as public:
        before = scrape(public)
        raised = staff.post("/api/v1/concerns", json=RAISE)
        assert raised.status_code == 201, raised.text
        reference = raised.json()["reference"]
        assert staff.get(f"/api/v1/concerns/{reference}").status_code == 200
        bad = staff.post("/api/v1/concerns", json={**RAISE, "grid": ""})
        assert bad.status_code == 422, bad.text
        not_theirs = staff.post(f"/api/v1/concerns/{reference}/assign", json={})
        assert not_theirs.status_code == 403, not_theirs.text
        missing = staff.post("/api/v1/concerns/MQ-2099-999999/refer", json={})
        assert missing.status_code == 404, missing.text
        assert public.get("/no/such/page").status_code == 404
        r = public.get("/metrics")
        after = scrape(public)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    count = "minqing_http_request_duration_seconds_count"
    assert moved(count, method="POST", route="/api/v1/concerns", status="201") == 1
    assert moved(count, method="GET", route="/api/v1/concerns/{concern_ref}", status="200") == 1
    assert moved(count, method="GET", route="<unmatched>", status="404") == 1
    took = "minqing_http_request_duration_seconds_sum"
    assert moved(took, method="POST", route="/api/v1/concerns", status="201") > 0
    bucket = "minqing_http_request_duration_seconds_bucket"
    labels = {"method": "POST", "route": "/api/v1/concerns", "status": "201"}
    assert moved(bucket, **labels, le="+Inf") == 1
    commands = "minqing_commands_total"
    assert moved(commands, command="raise_concern", outcome="done") == 1
    assert moved(commands, command="raise_concern", outcome="invalid") == 1
    assert moved(commands, command="assign", outcome="forbidden") == 1
    assert moved(commands, command="refer", outcome="not_found") == 1
    # Neither the reference nor the unmatched path became a label.
    assert reference not in r.text
    assert "/no/such/page" not in r.text
    # The gauges read from the database are still there, and the process's own figures.
    assert value(after, "minqing_log_position") >= 1
    assert value(after, "process_resident_memory_bytes") > 0
    assert value(after, "process_cpu_seconds_total") > 0


def test_projection_batches_are_timed_per_read_model(served: Server) -> None:
    _, token = served.principal([Role.STAFF])
    with served.client(token) as staff, served.client() as public:
        before = scrape(public)
        raised = staff.post("/api/v1/concerns", json=RAISE)
        assert raised.status_code == 201, raised.text
        position = raised.json()["position"]
        page = staff.get("/api/v1/concerns", params={"min_position": position})
        assert page.status_code == 200, page.text
        name = "minqing_projection_batch_duration_seconds_count"
        after = wait_until(
            lambda: (
                s
                if value(s := scrape(public), name, projection="concern_list")
                > value(before, name, projection="concern_list")
                else None
            )
        )
    assert value(after, "minqing_projection_batch_duration_seconds_sum", projection="concern_list")


def test_webhook_attempts_and_their_latency_are_counted_by_outcome(served: Server) -> None:
    answers = iter([503, 200])

    def first_fails(_: Received) -> Answer:
        return next(answers, 200), {}

    _, token = served.principal([Role.INTEGRATOR])
    with (
        receiving(respond=first_fails) as receiver,
        served.client(token) as c,
        served.client() as public,
    ):
        before = scrape(public)
        r = c.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "event_types": ["org.minqing.concern.raised.v1"]},
        )
        assert r.status_code == 201, r.text
        receiver.secrets.append(r.json()["secret"])
        _, staff_token = served.principal([Role.STAFF])
        with served.client(staff_token) as staff:
            assert staff.post("/api/v1/concerns", json=RAISE).status_code == 201
        attempts = "minqing_webhook_delivery_attempts_total"
        after = wait_until(
            lambda: (
                s
                if value(s := scrape(public), attempts, outcome="delivered")
                > value(before, attempts, outcome="delivered")
                else None
            )
        )
    assert value(after, attempts, outcome="failed") - value(before, attempts, outcome="failed") == 1
    seconds = "minqing_webhook_delivery_duration_seconds_count"
    assert value(after, seconds, outcome="delivered") > value(before, seconds, outcome="delivered")


# -- several processes ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_two_workers_answers_the_sum_of_both_processes(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": f"sqlite:///{tmp_path / 'minqing.db'}",
        "MINQING_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MINQING_ADMIN_TOKEN_FILE": str(tmp_path / "admin-token"),
        "MINQING_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
        "MINQING_EMBEDDED_WORKERS": "false",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    serving = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(f"{base}/healthz"), timeout=60)
        # The first answer says one process is up; on a loaded machine the second may still
        # be starting. Ask (a fresh connection each time) until both have answered.
        wait_until(lambda: len(_pids(base)) == 2, timeout=60)
        before = _healthz_count(base)
        # A fresh connection each time, so both processes take some of them.
        sent = before + sum(
            httpx.get(f"{base}/healthz", headers={"connection": "close"}).status_code == 200
            for _ in range(40)
        )
        counted = []
        pids: set[str] = set()
        for _ in range(6):
            with httpx.Client(base_url=base) as c:
                s = scrape(c)
            counted.append(_healthz(s))
            pids |= _pids_in(s)
    finally:
        serving.send_signal(signal.SIGTERM)
        _, err = serving.communicate(timeout=30)
    # Whichever process answered, it counted every /healthz both of them served.
    assert set(counted) == {float(sent)}, (counted, sent)
    assert len(pids) == 2, (pids, err.decode()[-2000:])


def _healthz(s: Samples) -> float:
    return value(
        s,
        "minqing_http_request_duration_seconds_count",
        method="GET",
        route="/healthz",
        status="200",
    )


def _healthz_count(base: str) -> float:
    with httpx.Client(base_url=base) as c:
        return _healthz(scrape(c))


def _pids_in(s: Samples) -> set[str]:
    return {dict(labels)["pid"] for (name, labels) in s if name == "process_resident_memory_bytes"}


def _pids(base: str) -> set[str]:
    """The processes the figures come from, asked on a fresh connection."""
    with httpx.Client(base_url=base) as c:
        return _pids_in(scrape(c))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
