"""What a read model is: its tables, the events it reads and how it applies one; where it is.

`Projection` is the base class of every read model; `Recorded` is one stored event as a
projection sees it (decoded once, shared by every projection of a round); `Table` makes a
read model's DDL under a suffix (a rebuild's fresh tables). The runner (projections/runner.py)
feeds them; a rebuild (projections/rebuild.py) fills fresh copies and swaps them in.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from eventsourcing.persistence import Notification

from adapters.database import Cursor, Database
from application.minqing import Minqing

POSITIONS_TABLE = "minqing_projection_positions"
# PostgreSQL identifiers are cut at 63 bytes; a rebuild suffix must still fit.
_MAX_IDENTIFIER = 63
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Table:
    """One table of a read model: its column definitions and its secondary indexes."""

    name: str
    columns: str
    indexes: Mapping[str, str] = field(default_factory=dict)  # index name suffix -> "(cols)"

    def ddl(self, suffix: str = "") -> list[str]:
        """The statements that create this table (and its indexes) under `name + suffix`."""
        return [self.create(suffix), *self.index_ddl(suffix)]

    def create(self, suffix: str = "") -> str:
        """The statement that creates this table, without its secondary indexes."""
        return f"CREATE TABLE IF NOT EXISTS {identifier(self.name + suffix)} ({self.columns})"

    def index_ddl(self, suffix: str = "") -> list[str]:
        """The statements that create this table's secondary indexes."""
        physical = identifier(self.name + suffix)
        return [
            f"CREATE INDEX IF NOT EXISTS {identifier(f'{physical}__{ix}')} ON {physical} {cols}"
            for ix, cols in self.indexes.items()
        ]


class Recorded:
    """One stored event as a projection sees it: its log position, and the decoded event."""

    def __init__(self, notification: Notification, app: Minqing) -> None:
        self.notification = notification
        self._app = app

    @property
    def app(self) -> Minqing:
        """The application the event was read by (its keyring keys the ledger's hashes)."""
        return self._app

    @property
    def position(self) -> int:
        """The event's position in the log (its notification id)."""
        return int(self.notification.id)

    # Cached: one Recorded is shared by every projection that reads its event.
    @cached_property
    def type_name(self) -> str:
        """The event class's qualified name, e.g. `Concern.Raised`, read from the topic."""
        return self.notification.topic.rpartition(":")[2]

    @cached_property
    def originator_id(self) -> str:
        """The id of the event's aggregate, as text."""
        return str(self.notification.originator_id)

    @cached_property
    def event(self) -> Any:
        """The domain event, decoded only when a projection asks for it."""
        return self._app.mapper.to_domain_event(self.notification)


class Projection(ABC):
    """A read model: tables, the topics it reads (None: every event) and how to apply one."""

    name: ClassVar[str]
    tables: ClassVar[Sequence[Table]]
    topics: ClassVar[Sequence[str] | None] = None
    # Raise it whenever the tables or what `apply` writes change: the runner then rebuilds
    # the projection at setup, so a database made by older code gets the new shape.
    version: ClassVar[int] = 1

    def __init__(self, suffix: str = "") -> None:
        # A rebuild writes a second instance of the projection into suffixed tables.
        self.suffix = suffix

    def table(self, name: str) -> str:
        """The physical name of one of this projection's tables."""
        return name + self.suffix

    def warm(self) -> None:  # noqa: B027 - a hook; most read models need nothing
        """Load what folding needs before the first event asks for it (a runner that is
        about to follow the log calls it, so no command waits for the loading)."""

    @abstractmethod
    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        """Write what one event changes; runs inside the batch's transaction."""

    def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
        """Write what a batch of events changes, in log order; by default one at a time.

        A read model that can fold a batch in memory overrides this to write each row once
        per batch (projections/rows.py): a round trip per event is what bounds a rebuild.
        """
        for recorded in batch:
            self.apply(cur, recorded)


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection is in the log, and how far behind the head."""

    name: str
    position: int
    head: int
    # Events this projection has parked (projections/parking.py): passed over, not applied.
    parked: int = 0

    @property
    def lag(self) -> int:
        """Log positions between the projection and the head (gaps count too)."""
        return max(0, self.head - self.position)

    def as_dict(self) -> dict[str, int]:
        """Plain data for /readyz and the CLI."""
        return {
            "position": self.position,
            "head": self.head,
            "lag": self.lag,
            "parked": self.parked,
        }


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did."""

    name: str
    events: int
    position: int
    seconds: float
    # False when a rebuild for a stale version found another process had swapped one in.
    swapped: bool = True
    # The positions of the events the rebuild parked for this projection, in log order.
    parked: tuple[int, ...] = ()


def create_tables(
    db: Database, projections: Sequence[Projection], lock_key: int, side: Mapping[str, str]
) -> None:
    """Create what is missing of the positions table, the `side` tables (name -> DDL) and
    the projections' tables, under the advisory lock `lock_key` on PostgreSQL.

    Only what is missing: DDL on a table that exists would still lock it (PostgreSQL's
    CREATE INDEX IF NOT EXISTS takes a SHARE lock first), and a process starting next to a
    running worker must not block it or deadlock with its batch.
    """
    missing = [
        statement
        for p in projections
        for table in p.tables
        if not table_exists(db, p.table(table.name))
        for statement in table.ddl(p.suffix)
    ]
    missing[:0] = [ddl for name, ddl in side.items() if not table_exists(db, name)]
    if not table_exists(db, POSITIONS_TABLE):
        missing.insert(
            0,
            f"CREATE TABLE IF NOT EXISTS {POSITIONS_TABLE} ("
            " name TEXT PRIMARY KEY, position BIGINT NOT NULL,"
            " version BIGINT NOT NULL DEFAULT 1)",
        )
    has_column = column_sql(db)
    unversioned = not missing and not db.fetchone(has_column, (POSITIONS_TABLE, "version"))
    if not missing and not unversioned:
        return
    with db.transaction() as cur:
        # Processes starting together would race on CREATE TABLE IF NOT EXISTS.
        cur.lock(lock_key)
        for statement in missing:
            cur.execute(statement)
        cur.execute(has_column, (POSITIONS_TABLE, "version"))  # again, under the lock
        if cur.fetchone() is None:
            # A database from before projections had versions: what it holds is version 1
            # of each.
            cur.execute(
                f"ALTER TABLE {POSITIONS_TABLE} ADD COLUMN version BIGINT NOT NULL DEFAULT 1"
            )


def identifier(name: str) -> str:
    """`name` if it is a safe table or index name that fits PostgreSQL's limit; else ValueError."""
    if not _IDENTIFIER.fullmatch(name) or len(name) > _MAX_IDENTIFIER:
        msg = f"not a usable table or index name: {name!r}"
        raise ValueError(msg)
    return name


def table_exists(db: Database, name: str) -> bool:
    """True when the database has a table called `name`."""
    return db.table_exists(name)


def column_sql(db: Database) -> str:
    """A query that finds a row when table ? has a column named ?."""
    return db.dialect.column_exists_sql()
