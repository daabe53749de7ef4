"""Concurrent commands on one store: retried conflicts, one winner per transition, no lost
update, references never given twice; on one application and on several (API processes)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from itertools import cycle
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from application.minqing import CommandResult, Idempotency, Minqing
from domain.concern import Concern
from domain.errors import Conflict, TransitionNotAllowed
from tests.integration.support import (
    STAFF,
    Outcome,
    assigned_concern,
    draft,
    is_postgres,
    open_app,
    run_together,
)

N = 20
REFERENCE = re.compile(r"MQ-(\d{4})-(\d{6})")

# "one": every thread shares the application; "many": four applications on one database,
# as four API processes would be (PostgreSQL only: SQLite is one process by design).
SHARING = ["one", "many"]


@pytest.fixture(params=SHARING)
def apps(
    request: pytest.FixtureRequest, minqing: Minqing, database_url: str, master_key: bytes
) -> Iterator[list[Minqing]]:
    """The applications the threads call, round robin; the first is the `minqing` fixture."""
    if request.param == "one":
        yield [minqing]
        return
    if not is_postgres(database_url):
        pytest.skip("several processes on one database is the PostgreSQL deployment")
    others = [open_app(database_url, master_key) for _ in range(3)]
    try:
        yield [minqing, *others]
    finally:
        for app in others:
            app.close()


def succeeded(outcomes: list[Outcome[CommandResult]]) -> list[CommandResult]:
    errors = [o.error for o in outcomes if o.error is not None]
    assert errors == [], f"{len(errors)} of {len(outcomes)} commands failed: {errors[:3]!r}"
    return [o.value for o in outcomes if o.value is not None]


def progress_calls(apps: list[Minqing], concern_id: UUID) -> list[Callable[[], CommandResult]]:
    return [
        partial(app.record_progress, concern_id, STAFF, f"note {i:02d}")
        for i, app in zip(range(N), cycle(apps), strict=False)
    ]


def test_concurrent_progress_notes_lose_no_update_and_keep_versions_contiguous(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    concern_id = assigned_concern(first)

    outcomes = run_together(progress_calls(apps, concern_id))

    # A command either succeeds or is refused as a conflict having recorded nothing.
    refused = [o.error for o in outcomes if o.error is not None]
    assert all(isinstance(e, Conflict) for e in refused), refused
    results = [o.value for o in outcomes if o.value is not None]
    assert results
    assert len(results) + len(refused) == N
    assert sorted(r.version for r in results) == list(range(3, 3 + len(results)))
    assert len({r.position for r in results}) == len(results)
    history = first.history(concern_id)
    assert [e["version"] for e in history] == list(range(1, 3 + len(results)))
    progress = [e for e in history if e["type"] == "ProgressRecorded"]
    recorded = {(e["version"], e["data"]["note"]) for e in progress}
    accepted = {o.value.version for o in outcomes if o.value is not None}
    assert {v for v, _ in recorded} == accepted
    assert len({note for _, note in recorded}) == len(results)
    for app in apps:  # every process sees the same concern
        concern = app.get_concern(concern_id)
        assert concern.version == 2 + len(results)
        assert concern.status == "assigned"
        assert len(concern.progress) == len(results)


def test_twenty_concurrent_progress_notes_all_succeed(
    request: pytest.FixtureRequest, apps: list[Minqing], database_url: str
) -> None:
    first = apps[0]
    concern_id = assigned_concern(first)

    results = succeeded(run_together(progress_calls(apps, concern_id)))

    assert sorted(r.version for r in results) == list(range(3, 3 + N))
    history = first.history(concern_id)
    assert [e["version"] for e in history] == list(range(1, 3 + N))
    progress = [e for e in history if e["type"] == "ProgressRecorded"]
    assert sorted(e["data"]["note"] for e in progress) == [f"note {i:02d}" for i in range(N)]


def test_twenty_concurrent_referrals_let_exactly_one_through(apps: list[Minqing]) -> None:
    first = apps[0]
    concern_id = UUID(first.raise_concern(STAFF, draft()).id)
    calls: list[Callable[[], CommandResult]] = [
        partial(app.refer, concern_id, STAFF, "for the committee")
        for _, app in zip(range(N), cycle(apps), strict=False)
    ]

    outcomes = run_together(calls)

    winners = [o.value for o in outcomes if o.value is not None]
    losers = [o.error for o in outcomes if o.error is not None]
    assert len(winners) == 1
    assert winners[0].status == "committee"
    assert winners[0].version == 2
    assert len(losers) == N - 1
    assert all(isinstance(e, TransitionNotAllowed) for e in losers), losers
    history = first.history(concern_id)
    assert [e["type"] for e in history] == ["Raised", "Referred"]
    assert first.get_concern(concern_id).status == "committee"


def test_concurrent_raises_get_unique_references_that_are_never_reused(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    calls: list[Callable[[], CommandResult]] = [
        partial(app.raise_concern, STAFF, draft(title=f"concern {i:02d}"))
        for i, app in zip(range(N), cycle(apps), strict=False)
    ]

    results = succeeded(run_together(calls))

    references = [r.reference or "" for r in results]
    matches = [REFERENCE.fullmatch(ref) for ref in references]
    assert all(matches), references
    assert len(set(references)) == N
    assert len({r.tracking_code for r in results}) == N
    assert len({r.id for r in results}) == N
    for result in results:
        assert str(first.concern_by_reference(result.reference or "").id) == result.id
    year = first.clock().year
    assert {m.group(1) for m in matches if m} == {str(year)}
    highest = max(int(ref[-6:]) for ref in references)
    later = first.raise_concern(STAFF, draft(title="later")).reference or ""
    assert int(later[-6:]) > highest


def test_concurrent_retries_with_one_idempotency_key_record_one_event(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    concern_id = assigned_concern(first)
    idem = Idempotency(STAFF.id, "retry-1", "fingerprint-1")
    calls: list[Callable[[], CommandResult]] = [
        partial(app.record_progress, concern_id, STAFF, "called the office", idem=idem)
        for _, app in zip(range(N), cycle(apps), strict=False)
    ]

    results = succeeded(run_together(calls))

    assert {(r.id, r.version, r.position) for r in results} == {
        (str(concern_id), 3, results[0].position)
    }
    assert sum(not r.replayed for r in results) == 1
    types = [e["type"] for e in first.history(concern_id)]
    assert types.count("ProgressRecorded") == 1


def test_concurrent_raises_with_one_idempotency_key_create_one_concern(
    apps: list[Minqing],
) -> None:
    first = apps[0]
    idem = Idempotency(STAFF.id, "raise-once", "fingerprint-raise")
    calls: list[Callable[[], CommandResult]] = [
        partial(app.raise_concern, STAFF, draft(), idem=idem)
        for _, app in zip(range(N), cycle(apps), strict=False)
    ]

    results = succeeded(run_together(calls))

    assert len({(r.id, r.reference, r.tracking_code, r.position) for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    topic = get_topic(Concern.Raised)  # type: ignore[attr-defined]
    raised = first.recorder.select_notifications(0, 100, topics=[topic])
    assert len(raised) == 1
    assert str(first.concern_by_reference(results[0].reference or "").id) == results[0].id
