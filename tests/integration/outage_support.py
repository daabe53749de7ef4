"""Helpers for the tests of workers riding out a database outage: a PostgreSQL database of
their own, its URL through a switchable proxy (tests/tcp_proxy.py), and `minqing worker …`
processes configured only by their environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.conftest import PG_ADMIN_URL
from tests.tcp_proxy import SwitchProxy

ROOT = Path(__file__).resolve().parents[2]
# What a worker logs once when an outage starts, and once when it ends.
DOWN = "database unavailable"
UP = "database available again after"


def server_address() -> tuple[str, int]:
    """The real PostgreSQL server the proxy forwards to."""
    parts = urlsplit(PG_ADMIN_URL)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def via(proxy: SwitchProxy, url: str) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    if parts.password:
        user += f":{parts.password}"
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{proxy.port}"))


@contextmanager
def worker(kind: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m api.cli worker KIND`, its output in `log`; killed if still running."""
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "api.cli", "worker", kind],
            cwd=ROOT,
            # A test that fails dumps each live worker's threads into its log (`dump`).
            env={**os.environ, "PYTHONFAULTHANDLER": "1", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


def dump(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """Make each live worker write its threads' stacks to its log, and end (SIGABRT)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=20)


def count(log: Path, text: str) -> int:
    """How many lines of `log` contain `text`."""
    return sum(text in line for line in log.read_text().splitlines())


def wait_until(condition: Callable[[], bool], seconds: float = 60, what: str = "") -> None:
    """Poll `condition` until it holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not reached in {seconds} s: {what}"
        time.sleep(0.1)
