"""The load client of bench/commands.py: wrk, driven by bench/commands.lua.

wrk is a C program (an event loop per thread, LuaJIT for the script), cheap enough not to be
the limit at the rates measured here; a Python client saturates near 1,200 requests/s on the
development machine. Not a benchmark itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from common import Figures

SCRIPT = Path(__file__).resolve().with_name("commands.lua")
INSTALL_HINT = (
    "wrk is not installed: install the Debian package, `apt-get install wrk` (as root), "
    "or put a wrk 4.x binary on PATH"
)
# Threads of wrk itself: two event loops carry 16 connections easily on two cores.
MAX_WRK_THREADS = 2
# A request that takes longer is counted as a timeout, not a latency.
TIMEOUT_SECONDS = 30
MIXES = ("raise", "raise-refer")


def wrk_binary() -> str:
    """The path of wrk, or exit saying how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(f"bench: {INSTALL_HINT}")
    return found


def wrk_version() -> str:
    done = subprocess.run(  # noqa: S603 - wrk found on PATH, no arguments from outside
        [wrk_binary(), "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    return (done.stdout + done.stderr).splitlines()[0].split(" Copyright")[0].strip()


@dataclass(frozen=True)
class Load:
    """What to send: a JSON body POSTed to `url` with a bearer token, `mix` as in the script."""

    url: str
    body: dict[str, object]
    token: str = ""
    mix: str = "raise"


def drive(load: Load, clients: int, seconds: float) -> Figures:
    """Run wrk with `clients` keep-alive connections for `seconds`; 2xx answers are the count,
    every other status and every socket error an error."""
    if load.mix not in MIXES:
        raise ValueError(f"unknown mix {load.mix!r}")
    env = dict(os.environ)
    env["BENCH_BODY"] = json.dumps(load.body, ensure_ascii=False)
    env["BENCH_TOKEN"] = load.token
    env["BENCH_MIX"] = load.mix
    argv = [
        wrk_binary(),
        f"--threads={min(MAX_WRK_THREADS, clients)}",
        f"--connections={clients}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        f"--script={SCRIPT}",
        load.url,
    ]
    done = subprocess.run(  # noqa: S603 - wrk found on PATH, arguments built above
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=seconds + TIMEOUT_SECONDS + 30,
        check=False,
    )
    return parse(done.stdout, done.stderr, done.returncode)


def parse(stdout: str, stderr: str = "", returncode: int = 0) -> Figures:
    """The figures of the script's BENCH-RESULT line (and BENCH-SAMPLE, the first non-2xx)."""
    result: dict[str, object] | None = None
    sample = ""
    for line in stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result = json.loads(line.removeprefix("BENCH-RESULT "))
        elif line.startswith("BENCH-SAMPLE "):
            sample = line.removeprefix("BENCH-SAMPLE ").strip()
    if result is None:
        raise SystemExit(
            f"bench: wrk printed no result (exit {returncode}):\n{stdout[-2000:]}{stderr[-2000:]}"
        )
    statuses = result["statuses"]
    assert isinstance(statuses, dict)
    ok = sum(int(n) for code, n in statuses.items() if 200 <= int(code) <= 299)
    errors: Counter[str] = Counter()
    for code, n in statuses.items():
        if not 200 <= int(code) <= 299:
            shown = f" (first: {sample[:200]})" if sample.startswith(str(code)) else ""
            errors[f"HTTP {code}{shown}"] += int(n)
    for kind in ("connect", "read", "write", "timeout"):
        n = result[kind]
        assert isinstance(n, int)
        if n:
            errors[f"socket {kind} errors"] += n
    if returncode != 0:
        errors[f"wrk exited with {returncode}: {stderr.strip()[:200]}"] += 1
    duration, p50, p99 = result["duration_us"], result["p50_us"], result["p99_us"]
    assert isinstance(duration, int | float)
    assert isinstance(p50, int | float)
    assert isinstance(p99, int | float)
    return Figures(
        count=ok, elapsed=duration / 1e6, p50_ms=p50 / 1000, p99_ms=p99 / 1000, errors=errors
    )
