"""The eventsourcing Application underneath every service: its ports, loading aggregates,
and THE save path of a command (events and side rows in one transaction, idempotent
replays, retries when a concurrent writer won).

A service (application/intake.py, concerns.py, meetings.py, members.py, views.py) is thin, as in
eventsourcing's own examples: load with a finder here, call the aggregate's method, hand
the aggregate to `_save`. Everything a command writes goes through `_save`, so a faster
writer (batched commits) replaces this one method.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic

from application import requests, unreadable
from application.commands import CommandResult, Idempotency
from application.ports import IdempotencyRow, Prepared, SideRow, Storage
from domain.concern import Concern
from domain.errors import Conflict, Invalid, NotFound
from domain.extensions import EXTENSION_CAP
from domain.index import Index
from domain.meeting import Meeting
from domain.member import Member
from domain.permissions import chair_actor
from domain.principal import Actor, Principal
from domain.suspensions import SUSPENSION_MAX_DAYS
from domain.work_calendar import WORKING_PERIODS, Period

if TYPE_CHECKING:
    # A type only, for `db` below (the one import of adapters/ outside bootstrap.py,
    # allowed by name in pyproject.toml's layer contract).
    from adapters.database import Database

Clock = Callable[[], datetime]
# What a numbered command makes with its number: (aggregate, others, result, side rows).
Built = tuple[Aggregate, Sequence[Aggregate], CommandResult, Sequence[SideRow]]
# How often a command is tried when concurrent writers keep winning.
ATTEMPTS = 25
A = TypeVar("A", bound=Aggregate)


class DateAsISO(Transcoding):
    """Stores `datetime.date` values as `YYYY-MM-DD`."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MinqingBase(Application[UUID]):
    """Residents' concerns, event-sourced: every command is one atomic save of events."""

    name = "minqing"  # pinned: table names and environment prefixes derive from it

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        master_key: bytes,
        clock: Clock | None = None,
        timezone: str = "Asia/Shanghai",
        extension_cap: int = EXTENSION_CAP,
        suspension_max_days: int = SUSPENSION_MAX_DAYS,
        working_periods: tuple[Period, ...] = WORKING_PERIODS,
    ) -> None:
        try:
            super().__init__(env)
            self.ports = _storage(self.factory).ports(self.recorder, master_key)
        except BaseException:
            # The database did not answer (or refused the tables): release the pool the
            # library opened, or its threads would connect later for nobody.
            factory = getattr(self, "factory", None)
            if factory is not None:
                factory.close()
            raise
        # The adapters' SQL facade on the same database, for the layers above (read models,
        # workers, the API); no service uses it. None on the in-memory store.
        self.db: Database = self.ports.sql
        self.keyring = self.ports.keyring
        self.accounts = self.ports.accounts
        self.zone = ZoneInfo(timezone)
        self.clock: Clock = clock or (lambda: datetime.now(UTC).astimezone(self.zone))
        # The caps of approved exceptions (MINQING_EXTENSION_CAP, MINQING_SUSPENSION_MAX_DAYS),
        # handed to the aggregate's commands as parameters.
        self.extension_cap = extension_cap
        self.suspension_max_days = suspension_max_days
        # The working periods of a working day (MINQING_WORKING_PERIODS) the limits count.
        self.working_periods = working_periods

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- saving ----------------------------------------------------------------------------

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """eventsourcing's save, with a row per event naming the HTTP request that made it
        (application/requests.py; none outside a request), in the events' transaction."""
        if tagged := requests.rows_for(objs):
            kwargs["side_rows"] = [*(kwargs.get("side_rows") or ()), *tagged]
        return super().save(*objs, **kwargs)

    def _save(
        self,
        aggregate: Aggregate,
        others: Sequence[Aggregate],
        result: CommandResult,
        idem: Idempotency | None,
        rows: Sequence[SideRow],
    ) -> CommandResult | None:
        """Save atomically: the events of `others` and `aggregate`, the side `rows` and the
        idempotency record; the result with the log position of the aggregate's last event.
        None means a concurrent writer won and the caller should try again."""
        if idem is not None:
            rows = [*rows, _idempotency_row(idem, result)]
        try:
            # The aggregate goes last so its event holds the highest position of the save.
            recordings = self.save(*others, aggregate, side_rows=rows)
        except IntegrityError:
            if (replay := self._replay(idem)) is not None:
                return replay
            return None
        position = max(r.notification.id for r in recordings)
        return CommandResult(**{**asdict(result), "position": position})

    def _save_numbered(
        self,
        counter: str,
        build: Callable[[int], Built],
        idem: Idempotency | None,
    ) -> CommandResult | None:
        """`_save` for a command whose events carry a counter's next number (a reference):
        `build(number)` makes (aggregate, others, result, side rows); the number is taken in
        the transaction that writes them when the store's writer can (PostgreSQL), else in
        one of its own just before. None as `_save`."""
        writer = self.ports.writer
        if writer is None:
            aggregate, others, result, rows = build(self.ports.counters.next(counter))
            return self._save(aggregate, others, result, idem, rows)
        made: list[CommandResult] = []

        def prepare(number: int) -> Prepared:
            aggregate, others, result, rows = build(number)
            made[:] = [result]
            if idem is not None:
                rows = [*rows, _idempotency_row(idem, result)]
            rows = [*rows, *requests.rows_for((*others, aggregate))]
            # The aggregate goes last so its event holds the highest position of the save.
            events = [e for a in (*others, aggregate) for e in a.collect_events()]
            return Prepared([self.mapper.to_stored_event(e) for e in events], rows)

        try:
            positions = writer.write_numbered(counter, prepare)
        except IntegrityError:
            if (replay := self._replay(idem)) is not None:
                return replay
            return None
        return CommandResult(**{**asdict(made[0]), "position": max(positions)})

    def _until_saved(
        self, attempt: Callable[[], CommandResult | None], gave_up: str
    ) -> CommandResult:
        """Run `attempt` (load, decide, `_save`) until no concurrent writer beats it."""
        for n in range(ATTEMPTS):
            back_off(n)
            if (saved := attempt()) is not None:
                return saved
        raise Conflict(gave_up)

    def _replay(self, idem: Idempotency | None) -> CommandResult | None:
        """The answer already given to this Idempotency-Key, if any (422 if the key came
        with another request)."""
        if idem is None:
            return None
        found = self.ports.idempotency.find(idem.principal_id, idem.key)
        if found is None:
            return None
        if found.fingerprint != idem.fingerprint:
            raise Invalid(
                [
                    (
                        "Idempotency-Key",
                        "was already used with a different request; send a new key",
                    )
                ]
            )
        position = self.ports.positions.position_of(found.aggregate_id, found.version)
        return CommandResult(**{**found.body, "position": position or 0, "replayed": True})

    # -- finding ---------------------------------------------------------------------------

    def get_concern(self, concern_id: UUID, version: int | None = None) -> Concern:
        """The concern now, or as it was at `version`."""
        return self._find_concern(concern_id, version=version)

    def concern_by_reference(self, reference: str) -> Concern:
        """The concern with this human-readable reference."""
        return self._via_index(f"reference:{reference}", "concern", reference)

    def track(self, code: str) -> Concern:
        """The concern a tracking code belongs to."""
        return self._via_index(f"tracking:{code.strip().upper()}", "tracking code", code)

    def get_meeting(self, meeting_id: UUID) -> Meeting:
        """One meeting."""
        found = self._get(meeting_id)
        if not isinstance(found, Meeting):
            raise NotFound("meeting", meeting_id)
        return found

    def _get(self, aggregate_id: UUID, version: int | None = None) -> Aggregate | None:
        try:
            found: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return found

    def _find_concern(
        self, concern_id: UUID, version: int | None = None, field_name: str | None = None
    ) -> Concern:
        with self._reading(concern_id):
            found = self._get(concern_id, version)
        if not isinstance(found, Concern):
            if field_name:
                raise Invalid([(field_name, f"no concern {concern_id}")]) from None
            raise NotFound("concern", concern_id) from None
        return found

    def _via_index(self, key: str, kind: str, shown: str) -> Concern:
        with self._reading(Index.create_id(key)):
            index = self._get(Index.create_id(key))
        if not isinstance(index, Index):
            raise NotFound(kind, shown)
        return self._find_concern(index.target)

    def _reading(self, aggregate_id: UUID) -> AbstractContextManager[None]:
        # An event of the aggregate that no longer decodes is named by its position.
        positions = self.ports.positions.position_of
        return unreadable.reading(self.mapper, self.recorder, positions, aggregate_id)

    def _member(self, member_id: UUID, field_name: str, *, not_found: bool = False) -> Member:
        member = self._get(member_id)
        if not isinstance(member, Member):
            if not_found:
                raise NotFound("member", member_id) from None
            raise Invalid([(field_name, f"no member {member_id} in the registry")]) from None
        return member

    def _chair(self, principal: Principal, meeting: Meeting, doing: str) -> Actor:
        """The actor for a step of the meeting's own chair, within its agenda's grids."""
        grids = [self._find_concern(c).grid for c in meeting.agenda]
        return chair_actor(principal, meeting, grids, doing)

    def _read_log(self, topics: list[str]) -> Iterator[Any]:
        """Every stored event of these topics, in log order."""
        last, size = 0, 500
        while True:
            batch = self.recorder.select_notifications(
                last, size, topics=topics, inclusive_of_start=False
            )
            yield from batch
            if len(batch) < size:  # the end of the log: no need to ask once more
                return
            last = batch[-1].id

    def _all_of(self, kind: type[A]) -> list[A]:
        """Every aggregate of `kind` as the repository loads it, in the order they were
        created: one pass over the log's events of `kind`, a read per 500 events."""
        # Each event goes through the mapper (cipher, compression, upcasting) and the
        # aggregate's own mutator, as `repository.get` takes them: only the reads differ.
        found: dict[UUID, A] = {}
        for notification in self._read_log(_topics_of(kind)):
            event = self.mapper.to_domain_event(notification)
            after = project_aggregate(found.get(event.originator_id), [event])
            if isinstance(after, kind):
                found[event.originator_id] = after
        return list(found.values())


def _topics_of(kind: type[Aggregate]) -> list[str]:
    # Every event class the aggregate declares (its @event methods make them), so an event
    # added to it later is folded too rather than silently left out of its list.
    found = (getattr(kind, name) for name in dir(kind))
    events = {c for c in found if isinstance(c, type) and issubclass(c, kind.Event)}
    return sorted(get_topic(c) for c in events)


def _storage(factory: object) -> Storage:
    if not isinstance(factory, Storage):
        msg = (
            "PERSISTENCE_MODULE must name one of Minqing's stores (adapters.sqlite,"
            " adapters.postgres or adapters.memory): the application needs their side tables"
        )
        raise TypeError(msg)
    return factory


def back_off(attempt: int) -> None:
    # Full-jitter exponential backoff: writers that lost a race spread out instead of
    # colliding again at once (20 writers on one concern all get through).
    if attempt:
        time.sleep(random.uniform(0, min(0.25, 0.005 * 2**attempt)))  # noqa: S311


def _idempotency_row(idem: Idempotency, result: CommandResult) -> IdempotencyRow:
    body = {k: v for k, v in asdict(result).items() if k not in ("position", "replayed")}
    return IdempotencyRow(
        principal_id=idem.principal_id,
        key=idem.key,
        fingerprint=idem.fingerprint,
        body=json.dumps(body),
        aggregate_id=result.id,
        version=result.version,
        created_at=datetime.now(UTC).isoformat(),
    )
