"""Read models at one position are fed in ONE transaction per round, not one each; a read
model that fails in it is rolled back alone (its savepoint) and the others are committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from adapters.database import Cursor
from application.minqing import Minqing
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF, draft
from tests.integration.test_parked_events import MARKER, Picky, applied, positions


def counting(runner: ProjectionRunner, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the transactions the runner opens from now on."""
    opened: list[int] = []
    original = runner.db.transaction

    @contextmanager
    def transaction() -> Iterator[Cursor]:
        opened.append(1)
        with original() as cur:
            yield cur

    def patched() -> AbstractContextManager[Cursor]:
        return transaction()

    monkeypatch.setattr(runner.db, "transaction", patched)
    return opened


def test_every_read_model_at_one_position_commits_in_one_transaction(
    minqing: Minqing, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = ProjectionRunner(minqing, all_projections())
    for _ in range(3):
        minqing.raise_concern(STAFF, draft())
    opened = counting(runner, monkeypatch)
    assert runner.run_once() > 0
    assert len(opened) == 1
    assert {s.name: s.position for s in runner.status()} == {
        p.name: runner.head() for p in runner.projections
    }


def test_a_failing_read_model_in_the_shared_transaction_fails_alone(
    minqing: Minqing, monkeypatch: pytest.MonkeyPatch
) -> None:
    Picky.broken = {MARKER: "a bug in the read model"}
    try:
        runner = ProjectionRunner(
            minqing, [Picky(), *all_projections()], park_after=3, retry_seconds=0.01
        )
        minqing.raise_concern(STAFF, draft())
        bad = minqing.raise_concern(STAFF, draft(title=MARKER)).position
        opened = counting(runner, monkeypatch)
        runner.run_once()
        # The shared transaction, then the failing read model's own, event by event.
        assert len(opened) == 2
        assert applied(minqing) == [p for p in positions(minqing) if p < bad]
        others = {s.name: s.position for s in runner.status() if s.name != "test_picky"}
        assert set(others.values()) == {runner.head()}
        runner.catch_up()
        assert [e.position for e in runner.parked()] == [bad]
    finally:
        Picky.broken = {}
