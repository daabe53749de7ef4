"""The read models' own process under `minqing serve` (MINQING_EMBEDDED_PROJECTIONS=process).

With the embedded workers on, `minqing serve` feeds the read models from a child process,
`minqing worker projections`, instead of a thread of the API process: the folds then run on
an interpreter of their own, not on the one the commands need (issue 12: in a thread they
took about a third of the API's core). Still one command to start and stop: the child gets
SIGTERM when `minqing serve` ends (and, on Linux, when it dies), and is started again if it
ever exits while the server runs. SQLite allows the second process (WAL; the worker polls).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from application.settings import Settings

log = logging.getLogger("minqing.serve")

# A child that exits is started again after this pause (it rides out outages itself).
RESTART_SECONDS = 1.0
STOP_SECONDS = 10.0
ARGV = [sys.executable, "-m", "api.cli", "worker", "projections"]
# The setting saying where the embedded read models are fed (application/settings.py).
PROJECTIONS_ENV = "MINQING_EMBEDDED_PROJECTIONS"


def _die_with_parent() -> Callable[[], None] | None:
    """Ask Linux to SIGTERM the child when its parent dies (prctl PR_SET_PDEATHSIG), so a
    killed server leaves no feeder behind; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def set_signal() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1

    return set_signal


class Feeder:
    """`minqing worker projections` as a child process, kept running until `stop`."""

    def __init__(self, argv: list[str] | None = None) -> None:
        self.argv = argv or ARGV
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def start(self) -> None:
        """Start the child, and a thread that starts it again should it exit."""
        self._spawn()
        self._watch = threading.Thread(target=self._keep, name="minqing-feeder", daemon=True)
        self._watch.start()

    def _spawn(self) -> None:
        # The same environment and working directory: the same database and settings.
        self._proc = subprocess.Popen(self.argv, preexec_fn=_die_with_parent())  # noqa: S603

    def _keep(self) -> None:
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None or proc.poll() is None:
                self._stopping.wait(RESTART_SECONDS)
                continue
            log.warning("the read models' process exited (%s); starting it again", proc.returncode)
            if not self._stopping.wait(RESTART_SECONDS):
                self._spawn()

    def stop(self) -> None:
        """SIGTERM the child and wait for it (SIGKILL after `STOP_SECONDS`)."""
        self._stopping.set()
        if self._watch is not None:
            self._watch.join()
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()


def start_feeder(settings: Settings) -> Feeder | None:
    """With the embedded workers on, the read models' child process, unless
    MINQING_EMBEDDED_PROJECTIONS=thread; the API's processes are told not to feed them too."""
    if not settings.embedded_workers:
        return None
    if PROJECTIONS_ENV in os.environ and settings.embedded_projections == "thread":
        return None
    os.environ[PROJECTIONS_ENV] = "process"  # read by the app's Settings (every worker)
    feeder = Feeder()
    feeder.start()
    return feeder
