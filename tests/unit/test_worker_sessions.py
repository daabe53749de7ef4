"""The shared worker session's pure parts: lock keys that earlier releases used too, and the
SQLite sleeper's waits."""

from __future__ import annotations

import hashlib
import threading
import time

from adapters.sessions import Sleeper, advisory_key
from adapters.webhooks import lock_key
from projections.runner import _lock_key as projection_lock_key


def _earlier_key(text: str) -> int:
    # How the runner and the dispatcher each derived their keys before the shared module:
    # a worker of this release and one of the last must still exclude each other.
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def test_lock_keys_are_the_ones_the_earlier_workers_took() -> None:
    assert projection_lock_key("concern_list") == _earlier_key("minqing:projection:concern_list")
    assert projection_lock_key("setup") == _earlier_key("minqing:projection:setup")
    assert lock_key() == _earlier_key("minqing:webhooks:dispatcher")


def test_lock_keys_differ_between_workers_and_fit_a_bigint() -> None:
    keys = {
        advisory_key("projection", "concern_list"),
        advisory_key("projection", "event_counts"),
        advisory_key("webhooks", "dispatcher"),
        advisory_key("deadlines", "watcher"),
    }
    assert len(keys) == 4
    assert all(-(2**63) <= k < 2**63 for k in keys)


def test_the_sleeper_sleeps_the_whole_time_unless_stopped_or_kicked() -> None:
    sleeper = Sleeper()
    stop, kick = threading.Event(), threading.Event()

    started = time.monotonic()
    assert sleeper.wait(0.2, stop) is False
    slept = time.monotonic() - started

    threading.Timer(0.05, kick.set).start()
    started = time.monotonic()
    assert sleeper.wait(5.0, stop, kick) is False
    kicked = time.monotonic() - started

    stop.set()
    started = time.monotonic()
    sleeper.wait(5.0, stop)
    stopped = time.monotonic() - started

    assert slept >= 0.2
    assert kicked < 1.0
    assert stopped < 0.5
    assert sleeper.try_lock(advisory_key("deadlines", "watcher"))
