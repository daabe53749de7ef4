"""Rebuilding read models from position zero into fresh tables, then swapping them in.

Readers keep the live tables until the swap, which is one short transaction under the live
positions' row locks: the fresh tables are caught up to (at least) the live positions, the
positions are set to theirs (and the versions to the code's), and the tables are renamed.
Several read models are rebuilt in one pass over the log, each event decoded once for all
of them. If anything fails, the fresh tables are dropped and the live ones stay as they
were.

An event that a fresh read model fails on (not for the database's sake) is parked rather
than failing the rebuild (projections/parking.py); the rebuild's parked events replace the
read model's in the swap's transaction, so they always describe the tables being served.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from adapters.database import Cursor, Database
from projections import batches, parking
from projections.base import POSITIONS_TABLE, Projection, RebuildReport, Recorded

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner

log = logging.getLogger("minqing.projections")
# How many times a rebuild reads the head before leaving the rest to the swap: twice, as
# writers faster than the rebuild make every pass longer than the one before.
CHASES = 2


class Rebuild:
    """One pass that rebuilds some read models of a runner."""

    def __init__(self, runner: ProjectionRunner, names: Sequence[str]) -> None:
        self.runner = runner
        self.db: Database = runner.db
        self.lives = [runner.projection(name) for name in names]
        suffix = f"__rb{secrets.token_hex(4)}"
        self.fresh = [type(live)(suffix=suffix) for live in self.lives]
        self.topics = topics_of(self.fresh)
        self.applied = dict.fromkeys(names, 0)
        self.parked: dict[str, list[parking.ParkedEvent]] = {name: [] for name in names}

    def run(self, *, only_if_stale: bool) -> list[RebuildReport]:
        """Rebuild and swap; with `only_if_stale`, a read model whose code's version another
        process has swapped in meanwhile is given up (not swapped), the others are."""
        started = time.monotonic()
        for live in self.lives if only_if_stale else ():
            log.info(
                "projection %s: stored version differs from %d, rebuilding",
                live.name,
                live.version,
            )
        # The secondary indexes come after the bulk of the rows: built once, not row by row.
        with self.db.transaction() as cur:
            for f in self.fresh:
                for table in f.tables:
                    cur.execute(table.create(f.suffix))
        swapped: list[str] = []
        position = 0
        try:
            # The bulk of the work, while the live projections keep serving.
            position = self._fill(position)
            if self.db.dialect.renames_indexes:
                # Else the swap builds them under the live names.
                with self.db.transaction() as cur:
                    for f in self.fresh:
                        for table in f.tables:
                            for statement in table.index_ddl(f.suffix):
                                cur.execute(statement)
                position = self._fill(position)
            position, swapped = self._swap(position, only_if_stale=only_if_stale)
        except BaseException:
            self._drop(self.fresh)
            raise
        pairs = zip(self.lives, self.fresh, strict=True)
        self._drop([f for live, f in pairs if live.name not in swapped])
        if swapped:
            with self.runner.advanced:
                self.runner.advanced.notify_all()
        seconds = time.monotonic() - started
        return [
            RebuildReport(
                name,
                self.applied[name],
                position,
                seconds,
                name in swapped,
                tuple(e.position for e in self.parked[name]),
            )
            for name in self.applied
        ]

    def _swap(self, position: int, *, only_if_stale: bool) -> tuple[int, list[str]]:
        swapped: list[str] = []
        with self.db.transaction() as cur:
            # Taking the row locks first makes the live runner wait, then find its position
            # moved and re-read its batch. In name order, so two rebuilds never wait for each
            # other in a circle.
            live_positions: dict[str, int] = {}
            for live in sorted(self.lives, key=lambda p: p.name):
                cur.execute(
                    f"UPDATE {POSITIONS_TABLE} SET position = position"  # noqa: S608
                    " WHERE name = ? RETURNING position, version",
                    (live.name,),
                )
                row = cur.fetchone()
                if only_if_stale and row and int(row["version"]) == live.version:
                    continue  # a process starting next to this one was first
                live_positions[live.name] = int(row["position"]) if row else 0
            target = max(live_positions.values(), default=0)
            while position < target:
                batch, position = self.runner._read(
                    self.topics, position, target, self.runner.rebuild_batch_size
                )
                self._apply(cur, self.runner._recorded(batch))
            for live, f in zip(self.lives, self.fresh, strict=True):
                if live.name not in live_positions:
                    continue
                cur.execute(
                    f"UPDATE {POSITIONS_TABLE} SET position = ?, version = ?"  # noqa: S608
                    " WHERE name = ?",
                    (position, live.version, live.name),
                )
                for statement in _swap_statements(self.db, cur, live, f):
                    cur.execute(statement)
                parking.replace_parked(cur, live.name, self.parked[live.name])
                swapped.append(live.name)
        return position, swapped

    def _fill(self, position: int) -> int:
        """Feed the fresh projections from `position` towards the head, a transaction per
        batch; the position reached. The head is read at most `CHASES` times: writers
        faster than the rebuild would otherwise keep it chasing the head for ever (the swap
        applies what came since, up to the live read models' position)."""
        for _ in range(CHASES):
            head = self.runner.head()
            if position >= head:
                break
            while position < head:
                batch, position = self.runner._read(
                    self.topics, position, head, self.runner.rebuild_batch_size
                )
                # Lost in a crash, the fresh tables are dropped: no need to wait for disk.
                with self.db.bulk_transaction() as cur:
                    self._apply(cur, self.runner._recorded(batch))
        return position

    def _apply(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Fold one batch into every fresh projection; the Recorded objects (and the events
        they decode) are shared, so each event is decoded once. An event a projection fails
        on is parked for it; the others still fold the batch."""
        for p in self.fresh:
            events = reading(p, batch)
            if events:
                batches.fold(cur, p, events, self._failed(p), self.runner.park_after)
                self.applied[p.name] += len(events)

    def _failed(self, p: Projection) -> parking.Failed:
        def park(recorded: Recorded, exc: Exception) -> bool:
            error = parking.error_text(exc)
            log.error(
                "projection %s: rebuild parked the event at position %d: %s",
                p.name,
                recorded.position,
                error,
            )
            self.parked[p.name].append(
                parking.ParkedEvent(
                    p.name,
                    recorded.position,
                    recorded.notification.topic,
                    error,
                    self.runner.park_after,
                    parking.now_text(),
                )
            )
            return True

        return park

    def _drop(self, fresh: Sequence[Projection]) -> None:
        if not fresh:
            return
        with self.db.transaction() as cur:
            for p in fresh:
                for table in p.tables:
                    cur.execute(f"DROP TABLE IF EXISTS {p.table(table.name)}")


def topics_of(projections: Sequence[Projection]) -> list[str] | None:
    """The topics any of these projections reads (None: every event)."""
    if any(p.topics is None for p in projections):
        return None
    return sorted({t for p in projections for t in p.topics or ()})


def reading(p: Projection, batch: Sequence[Recorded]) -> list[Recorded]:
    """The events of `batch` that projection `p` reads."""
    if p.topics is None:
        return list(batch)
    topics = frozenset(p.topics)
    return [r for r in batch if r.notification.topic in topics]


def _swap_statements(db: Database, cur: Cursor, live: Projection, fresh: Projection) -> list[str]:
    """Drop the live tables and give the fresh ones (and their indexes) the live names."""
    statements = []
    for table in live.tables:
        old, new = live.table(table.name), fresh.table(table.name)
        statements += [f"DROP TABLE IF EXISTS {old}", f"ALTER TABLE {new} RENAME TO {old}"]
        statements += db.dialect.index_renames(cur, old, new, table.indexes)
    return statements
