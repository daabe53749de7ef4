"""Helpers shared by the integration tests: principals, drafts, opening apps, raw SQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg

from adapters.store import event_store_env
from application.minqing import Clock, Minqing, NewConcern
from domain.principal import Principal
from domain.residents import ResidentData
from domain.vocabulary import Category, Channel, DutyRole, Library, Role

T = TypeVar("T")

RESIDENT = ResidentData(name="张秀英", phone="13812345678", address="幸福里5号楼2单元301")
TITLE = "5号楼东侧小路路灯两周不亮"

STAFF = Principal(
    id="staff-1",
    name="staff",
    roles=frozenset({Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE, Role.ADMIN}),
    grids=frozenset(),
)


def open_app(url: str, key: bytes, clock: Clock | None = None) -> Minqing:
    """A Minqing application on `url`, as one API process would open it."""
    return Minqing(event_store_env(url), master_key=key, clock=clock)


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


def draft(
    resident: ResidentData | None = None, title: str = TITLE, library: Library = Library.PROBLEM
) -> NewConcern:
    """A concern to raise; with the resident's personal data unless told otherwise."""
    return NewConcern(
        title=title,
        description="东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
        category=Category.ENVIRONMENT,
        library=library,
        channel=Channel.VISIT,
        grid="2",
        building="5",
        resident=resident if resident is not None else RESIDENT,
    )


def add_member(app: Minqing) -> UUID:
    """A registered member who can own concerns."""
    result = app.register_member(STAFF, "王芳", ["2"], [DutyRole.ENVIRONMENT_MONITOR], True)
    return UUID(result.id)


def assigned_concern(app: Minqing) -> UUID:
    """A concern raised and handled at once: status assigned, version 2."""
    owner = add_member(app)
    concern_id = UUID(app.raise_concern(STAFF, draft()).id)
    due = app.clock().date() + timedelta(days=30)
    app.handle_now(concern_id, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)
    return concern_id


def due_in(app: Minqing, days: int) -> date:
    return app.clock().date() + timedelta(days=days)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one concurrent call returned or raised."""

    value: T | None
    error: BaseException | None


def run_together(calls: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
    """Run every call on its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> Outcome[T]:
        barrier.wait(timeout=30)
        try:
            return Outcome(call(), None)
        except Exception as exc:  # every outcome is inspected by the test
            return Outcome(None, exc)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@contextmanager
def raw_connection(url: str) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """A query function on a connection of its own, bypassing the application."""
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn:

            def pg_query(sql: str) -> list[tuple[Any, ...]]:
                return list(conn.execute(sql).fetchall())

            yield pg_query
        return
    path = unquote(urlsplit(url).path)[1:]
    lite = sqlite3.connect(path)
    try:

        def lite_query(sql: str) -> list[tuple[Any, ...]]:
            return list(lite.execute(sql).fetchall())

        yield lite_query
    finally:
        lite.close()


def events_table(url: str) -> str:
    return "minqing_events" if is_postgres(url) else "stored_events"


def raw_event_states(url: str) -> list[bytes]:
    """The `state` column of every stored event, as bytes."""
    with raw_connection(url) as query:
        rows = query(f"SELECT state FROM {events_table(url)}")  # noqa: S608
    return [bytes(r[0]) for r in rows]


def table_names(url: str) -> set[str]:
    """The tables that exist in the database."""
    sql = (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        if is_postgres(url)
        else "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    with raw_connection(url) as query:
        return {str(r[0]) for r in query(sql)}


def fixed_clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def corrupt_event(url: str, position: int, state: bytes = b'{"title": "\xe8\xb7') -> None:
    """Change the stored bytes of the event at `position` so they no longer decode (cut
    JSON, half a UTF-8 character), as someone with the database's credentials could; on
    PostgreSQL the append-only triggers are lifted for the statement, as the table's owner
    can."""
    table = events_table(url)
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            conn.execute(
                f"UPDATE {table} SET state = %s WHERE notification_id = %s",  # noqa: S608
                (state, position),
            )
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        return
    lite = sqlite3.connect(unquote(urlsplit(url).path)[1:])
    try:
        with lite:
            lite.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (state, position))  # noqa: S608
    finally:
        lite.close()
