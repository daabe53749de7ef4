"""X-Request-ID over a real loopback server: the caller's sane id is kept and returned, a bad
one replaced; the events a request recorded name it (a supervisor goes from a log line to the
events, and from a history to the request); and `minqing serve` logs one JSON object per
line with the request's id, principal, route, status and duration, and nothing personal."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, ui_user

RAISE = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "resident": {"name": "张秀英", "phone": "13812345678"},
}
ROOT = Path(__file__).resolve().parents[2]


def test_a_request_id_is_kept_returned_and_tied_to_the_events_it_recorded(
    shared_server: Server,
) -> None:
    _, staff_token = shared_server.principal([Role.STAFF])
    _, supervisor_token = shared_server.principal([Role.SUPERVISOR])
    _, elsewhere_token = shared_server.principal([Role.SUPERVISOR], grids=["9"])
    mine = f"office-7:{uuid.uuid4().hex}"
    with (
        shared_server.client(staff_token) as staff,
        shared_server.client(supervisor_token) as supervisor,
        shared_server.client(elsewhere_token) as elsewhere,
    ):
        raised = staff.post("/api/v1/concerns", json=RAISE, headers={"X-Request-ID": mine})
        assert raised.status_code == 201, raised.text
        assert raised.headers["x-request-id"] == mine
        concern = raised.json()
        referred = staff.post(f"/api/v1/concerns/{concern['id']}/refer", json={})
        assert referred.status_code == 200, referred.text
        generated = referred.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        for bad in ("has space", "x" * 129, "-starts-with-a-dash", "semi;colon"):
            r = staff.get("/healthz", headers={"X-Request-ID": bad})
            assert r.headers["x-request-id"] != bad
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])

        tied = supervisor.get(f"/api/v1/audit/requests/{mine}")
        assert tied.status_code == 200, tied.text
        history = supervisor.get(f"/api/v1/concerns/{concern['id']}/history")
        assert history.status_code == 200, history.text
        hidden = elsewhere.get(f"/api/v1/audit/requests/{mine}")
        refused = staff.get(f"/api/v1/audit/requests/{mine}")
        invalid = supervisor.get("/api/v1/audit/requests/bad id")
        unknown = supervisor.get(f"/api/v1/audit/requests/{uuid.uuid4().hex}")

    events = tied.json()["events"]
    assert tied.json()["request_id"] == mine
    raised_event = [e for e in events if e["aggregate_id"] == concern["id"]]
    assert [(e["version"], e["type"]) for e in raised_event] == [(1, "Concern.Raised")]
    assert raised_event[0]["position"] == concern["position"]
    # Its index entries (reference, tracking code) were saved in the same request.
    assert len(events) > 1
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    by_version = {e["version"]: e["request_id"] for e in history.json()["events"]}
    assert by_version[1] == mine
    assert by_version[2] == generated
    assert hidden.status_code == 200
    assert hidden.json()["events"] == []
    assert refused.status_code == 403
    assert invalid.status_code == 422
    assert invalid.json()["error"] == "invalid"
    assert "request_id" in invalid.text
    assert unknown.json()["events"] == []


def test_the_supervisors_timeline_shows_the_request_of_each_event(shared_server: Server) -> None:
    _, staff_token = shared_server.principal([Role.STAFF])
    mine = f"desk-{uuid.uuid4().hex[:12]}"
    with shared_server.client(staff_token) as staff:
        r = staff.post("/api/v1/concerns", json=RAISE, headers={"X-Request-ID": mine})
        assert r.status_code == 201, r.text
    supervisor = ui_user(shared_server, [Role.SUPERVISOR])
    with signed_in(shared_server, supervisor) as s:
        page = s.get("/ui/supervision", params={"concern": r.json()["reference"]})
    assert page.status_code == 200, page.text
    assert f'<code class="request-id">{mine}</code>' in page.text
    assert "请求编号" in page.text


# -- the JSON log of `minqing serve` ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_answering(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("minqing serve did not answer")


def test_serve_logs_one_json_object_per_line_without_personal_data(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": f"sqlite:///{tmp_path / 'minqing.db'}",
        "MINQING_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MINQING_ADMIN_TOKEN_FILE": str(tmp_path / "admin-token"),
        "MINQING_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
    }
    serving = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    mine = f"drill-{uuid.uuid4().hex[:8]}"
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_answering(f"{base}/healthz")
        token = (tmp_path / "admin-token").read_text().strip()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as admin:
            raised = admin.post("/api/v1/concerns", json=RAISE, headers={"X-Request-ID": mine})
            assert raised.status_code == 201, raised.text
            code = raised.json()["tracking_code"]
            me = admin.get("/api/v1/audit/verify")
        with httpx.Client(base_url=base) as public:
            assert public.get(f"/api/v1/track/{code}?lang=zh").status_code == 200
    finally:
        serving.send_signal(signal.SIGTERM)
        _, err = serving.communicate(timeout=30)

    text = err.decode()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    (line,) = [x for x in lines if x.get("request_id") == mine and "route" in x]
    admin_id = _admin_id(tmp_path, env)
    assert line["principal_id"] == admin_id
    assert (line["method"], line["route"], line["status"]) == ("POST", "/api/v1/concerns", 201)
    assert line["duration_ms"] > 0
    assert line["logger"] == "minqing.request"
    (track,) = [x for x in lines if x.get("route") == "/api/v1/track/{tracking_code}"]
    assert (track["status"], track["principal_id"]) == (200, None)
    assert me.status_code == 403  # admin is no supervisor: logged like any refusal
    # Never a tracking code, a resident's name or phone, a query string or an address.
    for secret in (code, RAISE["resident"]["name"], RAISE["resident"]["phone"], "lang=zh"):  # type: ignore[index]
        assert secret not in text
    assert "127.0.0.1" not in "".join(json.dumps(x) for x in lines if "route" in x)


def _admin_id(tmp_path: Path, env: dict[str, Any]) -> str:
    listed = subprocess.run(
        [sys.executable, "-m", "api.cli", "users", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    (row,) = [r for r in listed.stdout.splitlines() if "  admin  " in r]
    return row.split()[0]


def test_a_worker_logs_one_json_object_per_line_too(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": f"sqlite:///{tmp_path / 'minqing.db'}",
        "MINQING_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MINQING_ADMIN_TOKEN_FILE": str(tmp_path / "admin-token"),
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "deadlines"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
        try:
            deadline = time.monotonic() + 60
            while "deadline watcher: every" not in log.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["message"].startswith("deadline watcher: every") for line in lines), lines
    assert any("stopped" in line["message"] for line in lines), lines
