"""`minqing serve` with the embedded workers (as `make run`): the read models are fed by a
child process of its own (api/feeder.py), which the server starts, restarts and stops."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RAISE = {
    "title": "东侧小路路灯坏了两周",
    "description": "5号楼东侧小路的路灯已经两周不亮。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _feeders(pid: int) -> list[int]:
    """The read-model children of `pid`; one that is reaped while we look is not one."""
    found = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:  # the killed feeder was reaped between the scan and this read
            continue
        if b"projections" in cmdline.split(b"\0"):
            found.append(child)
    return found


def _listed(client: httpx.Client, concern_id: str, position: int) -> bool:
    page = client.get("/api/v1/concerns", params={"min_position": position})
    if page.status_code == 503:  # not folded within the read-your-writes wait
        return False
    assert page.status_code == 200, page.text
    return concern_id in {item["id"] for item in page.json()["items"]}


def _raise(client: httpx.Client) -> tuple[str, int]:
    raised = client.post("/api/v1/concerns", json=RAISE)
    assert raised.status_code == 201, raised.text
    return raised.json()["id"], raised.json()["position"]


def test_serve_feeds_the_read_models_from_a_child_it_restarts_and_stops(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "MINQING_DATABASE_URL": f"sqlite:///{tmp_path / 'minqing.db'}",
        "MINQING_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MINQING_ADMIN_TOKEN_FILE": str(tmp_path / "admin-token"),
        "MINQING_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
    }
    env.pop("MINQING_EMBEDDED_PROJECTIONS", None)
    serving = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "minqing serve did not answer"
            time.sleep(0.1)
        (feeder,) = _feeders(serving.pid)
        token = (tmp_path / "admin-token").read_text().strip()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as admin:
            # Read-your-writes: the list waits until the child has folded the new concern.
            first, position = _raise(admin)
            assert _listed(admin, first, position)

            # A feeder that dies is started again, and the list keeps up.
            os.kill(feeder, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not (_feeders(serving.pid) and _feeders(serving.pid) != [feeder]):
                assert time.monotonic() < deadline, "the feeder was not started again"
                time.sleep(0.1)
            (feeder,) = _feeders(serving.pid)
            second, position = _raise(admin)
            deadline = time.monotonic() + 30
            while not _listed(admin, second, position):
                assert time.monotonic() < deadline, "the new feeder did not fold the concern"
                time.sleep(0.2)
    finally:
        serving.send_signal(signal.SIGTERM)
        serving.wait(timeout=30)
    # Stopping the server stopped its feeder: no read-model process is left behind.
    deadline = time.monotonic() + 30
    while _alive(feeder):
        assert time.monotonic() < deadline, "the feeder outlived minqing serve"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
