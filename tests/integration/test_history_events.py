"""History entries decoded straight from the stored JSON equal the entries of the events the
library's mapper decodes, for every event of random histories (concerns, meetings, members,
visits) on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings

from application.history_events import entries, event_entry
from tests.integration.test_projections import Office, log, open_office, play, steps


@pytest.fixture
def office(database_url: str, master_key: bytes) -> Iterator[Office]:
    yield from open_office(database_url, master_key)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_entries_read_straight_from_storage_equal_the_mapped_events(
    office: Office, history: list[tuple[str, int, bool]]
) -> None:
    play(office, history)

    app = office.app
    # Every aggregate with a history (the reference and tracking indexes have none).
    aggregates = {UUID(str(n.originator_id)) for n in log(app) if ":Index." not in n.topic}
    assert len(aggregates) > 1
    for aggregate_id in aggregates:
        stored = app.recorder.select_events(aggregate_id)
        fast = entries(app.mapper, stored)
        mapped = [event_entry(app.mapper.to_domain_event(s)) for s in stored]
        assert [e.data for e in fast] == mapped
        assert [e.event_class for e in fast] == [
            type(app.mapper.to_domain_event(s)) for s in stored
        ]
