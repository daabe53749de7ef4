"""The writer's batches on PostgreSQL: concurrent saves share a transaction; in a batch
that fails, only the conflicting member fails and the others are written; reference
numbers are taken in the batch's transaction."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from adapters.postgres import PostgresRecorder
from adapters.writer import Job, Writer
from application.minqing import Minqing
from application.ports import IdempotencyRow, Prepared
from tests.integration.support import STAFF, draft, is_postgres


@pytest.fixture
def recorder(minqing: Minqing, database_url: str) -> PostgresRecorder:
    if not is_postgres(database_url):
        pytest.skip("the batching writer is PostgreSQL's (SQLite has one writer by design)")
    assert isinstance(minqing.recorder, PostgresRecorder)
    return minqing.recorder


def event(version: int = 1, originator: str | None = None) -> StoredEvent:
    return StoredEvent(
        originator_id=str(originator or uuid4()),
        originator_version=version,
        topic="tests:Event",
        state=b"{}",
    )


def test_a_batch_with_a_conflicting_member_writes_the_others(recorder: PostgresRecorder) -> None:
    taken = event()
    [first] = recorder.insert_events([taken])
    good = [Job([event(), event(2, None)]), Job([event()])]
    clash = Job([event(taken.originator_version, str(taken.originator_id))])
    numbered = Job(
        counter="tests",
        prepare=lambda n: Prepared([event()], [_idem_row(n)]),
    )
    batch = [good[0], clash, good[1], numbered]
    # One batch, as the writer thread would take them.
    Writer(recorder._commit_batch)._write(batch)
    assert isinstance(clash.error, IntegrityError)
    for job in [*good, numbered]:
        assert job.error is None, job.error
        assert job.positions
        for position, stored in zip(job.positions, job.events, strict=True):
            [n] = recorder.select_notifications(position, 1)
            assert (str(n.originator_id), n.originator_version) == (
                stored.originator_id,
                stored.originator_version,
            )
    assert recorder.max_notification_id() == max(numbered.positions or [0])
    assert first < min(good[0].positions or [0])


def test_a_failing_command_in_a_batch_is_its_own_answer(recorder: PostgresRecorder) -> None:
    def refuse(number: int) -> Prepared:
        raise ValueError(number)

    refused = Job(counter="tests", prepare=refuse)
    fine = Job([event()])
    Writer(recorder._commit_batch)._write([refused, fine])
    assert isinstance(refused.error, ValueError)
    assert fine.error is None
    assert fine.positions


def test_concurrent_saves_share_transactions_and_keep_log_order(
    minqing: Minqing, recorder: PostgresRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits: list[int] = []
    commit = recorder._commit_batch

    def counting(jobs: list[Job]) -> None:
        commits.append(len(jobs))
        commit(jobs)

    monkeypatch.setattr(recorder.writer, "_commit", counting)
    barrier = threading.Barrier(32)

    def raise_one(i: int) -> int:
        barrier.wait()
        return minqing.raise_concern(STAFF, draft(title=f"灯 {i}")).position

    with ThreadPoolExecutor(32) as pool:
        positions = list(pool.map(raise_one, range(32)))
    assert len(set(positions)) == 32
    assert sum(commits) == 32
    # Coalesced: fewer transactions than commands (the first waits alone, the rest queue).
    assert len(commits) < 32, commits
    raised = [UUID(str(n.originator_id)) for n in _raised(minqing)]
    references = sorted(minqing.get_concern(c).reference for c in raised)
    assert references == [f"MQ-{r[3:7]}-{i:06d}" for i, r in enumerate(references, start=1)]


def _raised(minqing: Minqing) -> list[Notification]:
    topic = "domain.concern:Concern.Raised"
    return list(minqing.recorder.select_notifications(1, 1000, topics=[topic]))


def _idem_row(n: int) -> IdempotencyRow:
    return IdempotencyRow(
        principal_id="tests",
        key=f"k-{n}",
        fingerprint="f",
        body="{}",
        aggregate_id=str(uuid4()),
        version=1,
        created_at="2026-01-01T00:00:00+00:00",
    )
