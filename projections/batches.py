"""Applying a batch of events to one read model, with a failing event isolated.

The live runner applies a projection's batch and moves its position in one transaction,
guarded by the position it read from (`move`). If the batch fails for the read model's own
sake (`parking.transient` tells the database's errors apart, and those are raised), the
batch is applied again one event at a time, each under a savepoint, so that only the
culprit is rolled back: the events before it are kept, and it is retried later with backoff
or, after `park_after` failures in a row, parked (projections/parking.py) and passed over.
A rebuild (projections/rebuild.py) folds its batches with `fold`: the batch under a
savepoint, then event by event if it fails, each failing event parked at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from adapters.database import Cursor, Database
from projections import parking
from projections.base import POSITIONS_TABLE, Projection, Recorded

log = logging.getLogger("minqing.projections")

_EVENT_SAVEPOINT = "minqing_event"
_BATCH_SAVEPOINT = "minqing_batch"
_MODEL_SAVEPOINT = "minqing_model"


class Superseded(Exception):
    """Another runner moved the position first: this batch must not be applied."""


def move(cur: Cursor, name: str, start: int, end: int) -> None:
    """Move projection `name` from `start` to `end`: Superseded if another runner moved it
    first. It takes the position's row lock for the rest of the transaction."""
    cur.execute(
        f"UPDATE {POSITIONS_TABLE} SET position = ?"  # noqa: S608
        " WHERE name = ? AND position = ? RETURNING position",
        (end, name, start),
    )
    if cur.fetchone() is None:
        raise Superseded


def apply(
    db: Database,
    failures: parking.Failures,
    p: Projection,
    start: int,
    end: int,
    batch: Sequence[Recorded],
) -> int:
    """Apply `batch`, the projection's events in (start, end], and move its position; how
    far it moved. In one transaction; one event at a time when that fails (not for the
    database's sake) or when the batch holds the event the projection last failed on."""
    if not failures.suspect(p.name, start, end):
        try:
            with db.transaction() as cur:
                move(cur, p.name, start, end)
                p.apply_batch(cur, batch)
        except Superseded:
            raise
        except Exception as exc:
            if parking.transient(exc):
                raise
            log.warning(
                "projection %s: the batch (%d, %d] failed (%s); applying it event by event",
                p.name,
                start,
                end,
                parking.error_text(exc),
            )
        else:
            return end - start
    return _one_at_a_time(db, failures, p, start, end, batch)


def apply_together(
    db: Database,
    failures: parking.Failures,
    models: Sequence[tuple[Projection, Sequence[Recorded]]],
    start: int,
    end: int,
) -> dict[str, int | None]:
    """Apply the batches of several read models, all at `start` and reaching `end`, in ONE
    transaction (one commit per round, not one per read model); how far each moved (None:
    superseded by another runner).

    Each read model's batch sits under a savepoint: one that fails for its own sake is
    rolled back alone, the others are committed, and it is then applied as `apply` would,
    event by event in a transaction of its own (kept, retried, parked). An error of the
    database's availability is raised and nothing is written."""
    moved: dict[str, int | None] = {}
    failed: list[tuple[Projection, Sequence[Recorded]]] = []
    with db.transaction() as cur:
        for p, batch in models:
            if failures.suspect(p.name, start, end):
                failed.append((p, batch))
                continue
            cur.execute(f"SAVEPOINT {_MODEL_SAVEPOINT}")
            try:
                move(cur, p.name, start, end)
                p.apply_batch(cur, batch)
            except Superseded:
                moved[p.name] = None
            except Exception as exc:
                if parking.transient(exc):
                    raise
                cur.execute(f"ROLLBACK TO SAVEPOINT {_MODEL_SAVEPOINT}")
                log.warning(
                    "projection %s: the batch (%d, %d] failed (%s); applying it event by event",
                    p.name,
                    start,
                    end,
                    parking.error_text(exc),
                )
                failed.append((p, batch))
            else:
                moved[p.name] = end - start
            cur.execute(f"RELEASE SAVEPOINT {_MODEL_SAVEPOINT}")
    for p, batch in failed:
        try:
            moved[p.name] = _one_at_a_time(db, failures, p, start, end, batch)
        except Superseded:
            moved[p.name] = None
    return moved


def _one_at_a_time(
    db: Database,
    failures: parking.Failures,
    p: Projection,
    start: int,
    end: int,
    batch: Sequence[Recorded],
) -> int:
    # The events before a failing one are kept; the failing one is parked once it has failed
    # `park_after` times in a row, else the projection stops before it until its retry.
    with db.transaction() as cur:
        move(cur, p.name, start, start)  # the guard, and the row lock
        done = apply_each(cur, p, batch, failures.handler(cur, p.name))
        reached = end if done == len(batch) else (batch[done - 1].position if done else start)
        cur.execute(
            f"UPDATE {POSITIONS_TABLE} SET position = ? WHERE name = ?",  # noqa: S608
            (reached, p.name),
        )
    failures.forget(p.name, reached)
    return reached - start


def fold(
    cur: Cursor, p: Projection, events: Sequence[Recorded], failed: parking.Failed, tries: int
) -> int:
    """Apply `events` to `p` as one batch under a savepoint; if that fails (not for the
    database's sake), roll it back and apply them one at a time (`apply_each`). How many of
    the events were dealt with (applied or parked)."""
    cur.execute(f"SAVEPOINT {_BATCH_SAVEPOINT}")
    try:
        p.apply_batch(cur, events)
    except Exception as exc:
        if parking.transient(exc):
            raise
        cur.execute(f"ROLLBACK TO SAVEPOINT {_BATCH_SAVEPOINT}")
        cur.execute(f"RELEASE SAVEPOINT {_BATCH_SAVEPOINT}")
        return apply_each(cur, p, events, failed, tries)
    cur.execute(f"RELEASE SAVEPOINT {_BATCH_SAVEPOINT}")
    return len(events)


def apply_each(
    cur: Cursor, p: Projection, events: Sequence[Recorded], failed: parking.Failed, tries: int = 1
) -> int:
    """Apply `events` to `p` one at a time, each under a savepoint (tried up to `tries`
    times): an event that fails is rolled back alone and handed to `failed`, which parks it
    (True: go on) or not (False: stop before it). How many of the events were dealt with."""
    for done, recorded in enumerate(events):
        error = _attempt(cur, p, recorded, tries)
        if error is not None and not failed(recorded, error):
            return done
    return len(events)


def _attempt(cur: Cursor, p: Projection, recorded: Recorded, tries: int) -> Exception | None:
    error: Exception | None = None
    for _ in range(max(1, tries)):
        cur.execute(f"SAVEPOINT {_EVENT_SAVEPOINT}")
        try:
            p.apply(cur, recorded)
        except Exception as exc:
            if parking.transient(exc):
                raise
            cur.execute(f"ROLLBACK TO SAVEPOINT {_EVENT_SAVEPOINT}")
            error = exc
        else:
            error = None
        cur.execute(f"RELEASE SAVEPOINT {_EVENT_SAVEPOINT}")
        if error is None:
            return None
    return error
