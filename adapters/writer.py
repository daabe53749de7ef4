"""The writer: one thread per process commits the saves of concurrent commands together.

A command prepares its events and side rows in its own thread and hands them over as a
`Job`; the writer thread takes every job waiting (up to `MAX_BATCH`) and commits them in ONE
transaction (the dialect's `commit`: on PostgreSQL under the events table's lock, COMMIT in
the same round trip). Each job still gets its own outcome: when a batch fails (a member lost
a race, optimistic concurrency or a unique key), every member is committed again alone, so
only the conflicting one fails, with its own IntegrityError, and the others are written.

No SQL here: `commit` is the dialect's (adapters/postgres.py). The thread is started by the
first job and ends after `IDLE_SECONDS` without work, so a closed application leaves none.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from typing import Any

from application.ports import Prepared, SideRow

# Enough to fill one round trip; more would only make the lock's holder longer.
MAX_BATCH = 64
IDLE_SECONDS = 1.0


class Job:
    """One command's save: its events and side rows, or a counter and what to make with
    its next number; then its outcome (the events' positions, or the error)."""

    __slots__ = (
        "context",
        "counter",
        "done",
        "error",
        "events",
        "positions",
        "prepare",
        "side_rows",
    )

    def __init__(
        self,
        events: Sequence[Any] = (),
        side_rows: Sequence[SideRow] = (),
        *,
        counter: str | None = None,
        prepare: Callable[[int], Prepared] | None = None,
    ) -> None:
        self.events = events
        self.side_rows = side_rows
        self.counter = counter
        self.prepare = prepare
        # `prepare` runs on the writer's thread: in the command's context, so what it reads
        # of its request (application/requests.py) is the command's own.
        self.context = contextvars.copy_context()
        self.positions: list[int] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def made(self, number: int) -> bool:
        """Make the events with the counter's `number`; False (the job failed) if the
        command's own code raised."""
        try:
            prepared = (
                self.context.run(self.prepare, number)
                if self.prepare
                else Prepared(self.events, ())
            )
        except Exception as exc:  # the command's error is its answer, not the batch's
            self.error = exc
            return False
        self.events, self.side_rows = prepared.events, prepared.side_rows
        return True

    @property
    def pending(self) -> bool:
        """Still to be written (not failed in its own code)."""
        return self.error is None


# The dialect's commit: writes the pending jobs in one transaction and sets each one's
# `positions` (or `error`, for a job whose `prepare` raised), or raises and writes nothing.
Commit = Callable[[list[Job]], None]


class Writer:
    """Coalesces concurrent saves into one transaction per batch (see the module)."""

    def __init__(self, commit: Commit, max_batch: int = MAX_BATCH) -> None:
        self._commit = commit
        self._max = max_batch
        self._queue: list[Job] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._running = False

    def write(self, job: Job) -> list[int]:
        """Commit `job` (with whatever else is waiting); its events' positions, or raise
        its own error."""
        with self._lock:
            self._queue.append(job)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="minqing-writer", daemon=True).start()
            self._wake.notify()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.positions or []

    def write_numbered(self, counter: str, prepare: Callable[[int], Prepared]) -> list[int]:
        """Take the next number of `counter` in the batch's transaction and write what
        `prepare(number)` makes (the `NumberedWrites` port)."""
        return self.write(Job(counter=counter, prepare=prepare))

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._wake.wait(IDLE_SECONDS)
                    if not self._queue:
                        self._running = False
                        return
                batch = self._queue[: self._max]
                del self._queue[: self._max]
            self._write(batch)

    def _write(self, batch: list[Job]) -> None:
        try:
            self._attempt(batch)
        except BaseException as exc:  # every member's thread waits
            if len(batch) == 1:
                batch[0].error = batch[0].error or exc
            else:
                # Which member broke it is not said: each one again, alone.
                for job in batch:
                    if job.pending and job.positions is None:
                        try:
                            self._attempt([job])
                        except BaseException as alone:
                            job.error = alone
        finally:
            for job in batch:
                job.done.set()

    def _attempt(self, jobs: list[Job]) -> None:
        pending = [job for job in jobs if job.pending]
        if pending:
            self._commit(pending)
