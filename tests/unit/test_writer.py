"""The writer's bookkeeping, without a database: whatever mix of saves a batch holds, each
gets its own outcome (its positions, in commit order, or its own error), and concurrent
saves share commits."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.writer import Job, Writer
from application.ports import Prepared


class Clash(Exception):
    """A unique key taken: fails the whole transaction, as PostgreSQL does."""


class Log:
    """A log that commits a batch all or nothing; an event named "taken" clashes."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.commits: list[int] = []
        self.counter = 0

    def commit(self, jobs: list[Job]) -> None:
        counter = self.counter
        for job in jobs:
            if job.counter is not None:
                counter += 1
                job.made(counter)
        pending = [j for j in jobs if j.pending]
        if any("taken" in j.events for j in pending):
            raise Clash
        self.counter = counter
        self.commits.append(len(pending))
        for job in pending:
            start = len(self.events)
            self.events.extend(job.events)
            job.positions = list(range(start + 1, len(self.events) + 1))


def refuse(number: int) -> Prepared:
    raise ValueError(number)


KINDS = st.sampled_from(["plain", "taken", "numbered", "refused"])


def job_of(kind: str, i: int) -> Job:
    if kind == "numbered":
        return Job(counter="ref", prepare=lambda n: Prepared([f"ref-{n}"], []))
    if kind == "refused":
        return Job(counter="ref", prepare=refuse)
    return Job([kind if kind == "taken" else f"e{i}a", f"e{i}b"])


@settings(max_examples=200, deadline=None)
@given(st.lists(KINDS, min_size=1, max_size=12))
def test_each_member_of_a_batch_gets_its_own_outcome(kinds: list[str]) -> None:
    log = Log()
    jobs = [job_of(kind, i) for i, kind in enumerate(kinds)]
    Writer(log.commit)._write(jobs)
    for kind, job in zip(kinds, jobs, strict=True):
        assert job.done.is_set()
        if kind == "taken":
            assert isinstance(job.error, Clash)
        elif kind == "refused":
            assert isinstance(job.error, ValueError)
        else:
            assert job.error is None
            assert job.positions is not None
            assert [log.events[p - 1] for p in job.positions] == list(job.events)
    numbers = [int(e[4:]) for e in log.events if e.startswith("ref-")]
    # A number is never given twice (one taken by a save that failed in its own code may
    # be skipped; one taken in a batch that failed is rolled back with it).
    assert numbers == sorted(set(numbers))
    assert "taken" not in log.events


def test_concurrent_saves_share_commits_and_each_gets_its_positions() -> None:
    log = Log()
    lock = threading.Lock()

    def slow_commit(jobs: list[Job]) -> None:
        with lock:
            threading.Event().wait(0.01)  # a round trip: others queue meanwhile
            log.commit(jobs)

    writer = Writer(slow_commit)
    barrier = threading.Barrier(24)

    def save(i: int) -> list[int]:
        barrier.wait()
        return writer.write(Job([f"e{i}"]))

    with ThreadPoolExecutor(24) as pool:
        positions = list(pool.map(save, range(24)))
    assert sorted(p for ps in positions for p in ps) == list(range(1, 25))
    for i, [p] in enumerate(positions):
        assert log.events[p - 1] == f"e{i}"
    assert sum(log.commits) == 24
    assert len(log.commits) < 24
