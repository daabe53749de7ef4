"""One round of the live runner (projections/runner.py): which read models share a read of
the log, and applying each batch with its read model's position.

Projections at the same position and less than a batch behind the head (the usual case while
following the log) share one read of the log, each event decoded once for all of them, and
one transaction: each read model's batch under a savepoint, so one that fails is rolled back
alone and the others commit (batches.apply_together). A projection further behind reads a
batch of its own topics only, in a transaction of its own, so it catches up at its pace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from adapters import instruments
from projections import batches
from projections.base import Projection, Recorded
from projections.rebuild import reading, topics_of

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner

log = logging.getLogger("minqing.projections")


def run_once(runner: ProjectionRunner, names: set[str] | None = None) -> int:
    """Process at most one batch of each of the runner's projections (all, or those in
    `names`); how many positions they moved on, in total."""
    head = runner.head()
    positions = runner._positions()
    chosen = [p for p in runner.projections if names is None or p.name in names]
    for p in chosen:
        runner.failures.forget(p.name, positions.get(p.name, 0))
    behind = [
        (p, positions.get(p.name, 0))
        for p in chosen
        # One waiting to try its failing event again sits this round out.
        if positions.get(p.name, 0) < head and not runner.failures.waiting(p.name)
    ]
    near: dict[int, list[Projection]] = {}
    for p, start in behind:
        if head - start < runner.batch_size:
            near.setdefault(start, []).append(p)
    moved = 0
    for start, group in near.items():
        batch, end = runner._read(topics_of(group), start, head)
        everything = runner._recorded(batch)
        moved += _step_together(runner, [(p, reading(p, everything)) for p in group], start, end)
    for p, start in behind:
        if start not in near:
            batch, end = runner._read(p.topics, start, head)
            moved += _step(runner, p, start, end, runner._recorded(batch))
    return moved


def _step(
    runner: ProjectionRunner, p: Projection, start: int, end: int, batch: Sequence[Recorded]
) -> int:
    """Apply `batch`, the projection's events in (start, end], and move its position;
    how far it moved."""
    started = time.perf_counter()
    try:
        moved = batches.apply(runner.db, runner.failures, p, start, end, batch)
    except batches.Superseded:
        runner.superseded += 1
        log.debug("projection %s: another runner processed (%d, %d]", p.name, start, end)
        return 0
    if moved:
        instruments.PROJECTION_BATCH_SECONDS.labels(p.name).observe(time.perf_counter() - started)
        with runner.advanced:
            runner.advanced.notify_all()
    return moved


def _step_together(
    runner: ProjectionRunner,
    models: Sequence[tuple[Projection, Sequence[Recorded]]],
    start: int,
    end: int,
) -> int:
    """Apply the batches of read models at one position in one transaction; how far
    they moved, in total."""
    if len(models) == 1:
        [(p, batch)] = models
        return _step(runner, p, start, end, batch)
    started = time.perf_counter()
    moves = batches.apply_together(runner.db, runner.failures, models, start, end)
    # One transaction for all of them: each read model that moved is timed by it.
    took = time.perf_counter() - started
    for name, moved in moves.items():
        if moved is None:
            runner.superseded += 1
            log.debug("projection %s: another runner processed (%d, %d]", name, start, end)
        elif moved:
            instruments.PROJECTION_BATCH_SECONDS.labels(name).observe(took)
    total = sum(m for m in moves.values() if m)
    if total:
        with runner.advanced:
            runner.advanced.notify_all()
    return total
