"""Stages past their time limit (超期) on both stores: the deadline watcher records a triage
or committee stage that ran past its limit on the work calendar once, never again however
often it sweeps; a stage handed on in time records nothing; the list's items and the
concern carry the stage and its colour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from tests.integration.support import STAFF, draft
from tests.integration.test_deadline_watcher import Clock, Desk, open_desk

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY = datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def desk(database_url: str, master_key: bytes) -> Iterator[Desk]:
    d = open_desk(database_url, master_key, Clock(FRIDAY))
    try:
        yield d
    finally:
        d.app.close()


def missed(desk: Desk) -> list[tuple[str, str, Any]]:
    """Every StageMissed in the log: (concern, stage, started_at)."""
    found = []
    position = 0
    app = desk.app
    while batch := app.recorder.select_notifications(position, 500, inclusive_of_start=False):
        position = batch[-1].id
        for n in batch:
            if n.topic.endswith(".StageMissed"):
                event: Any = app.mapper.to_domain_event(n)
                found.append((str(n.originator_id), event.stage, event.started_at))
    return found


def test_a_stage_past_its_limit_is_recorded_once(desk: Desk) -> None:
    app = desk.app
    late = UUID(app.raise_concern(STAFF, draft()).id)
    on_time = UUID(app.raise_concern(STAFF, draft()).id)
    # One working day for triage: Monday 9 March, 10:00 (the weekend does not count).
    desk.clock.now = datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI)
    app.refer(on_time, STAFF)
    assert desk.sweep() == {}
    desk.clock.now = datetime(2026, 3, 9, 10, 1, tzinfo=SHANGHAI)
    assert desk.sweep() == {"StageMissed": 1}
    assert desk.sweep() == {}  # twice: nothing new
    assert missed(desk) == [(str(late), "triage", FRIDAY)]
    # The list shows the stage red, the referred one green in the committee's stage.
    desk.runner.catch_up()
    read = app.row_stage_reader()
    rows = {r["id"]: r for r in app.db.fetchall("SELECT * FROM minqing_concern_list", ())}
    assert read(rows[str(late)])["colour"] == "red"  # type: ignore[index]
    assert read(rows[str(on_time)])["name"] == "committee"  # type: ignore[index]
    assert read(rows[str(on_time)])["colour"] == "green"  # type: ignore[index]
    # Referred late, the committee's stage has a clock of its own: five working days.
    app.refer(late, STAFF)
    desk.clock.now += timedelta(days=7, minutes=1)
    assert desk.sweep() == {"StageMissed": 2}
    assert desk.sweep() == {}
    stages = sorted((c, s) for c, s, _ in missed(desk))
    assert stages == sorted(
        [(str(late), "triage"), (str(late), "committee"), (str(on_time), "committee")]
    )
