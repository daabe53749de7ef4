"""Erasing a resident changes no read model (the achievement library, the ledger and every
other table read the same before and after) and the hash chain still verifies."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters import audit
from api.demo import load_demo
from application.minqing import Minqing
from application.residents import erase_personal_data
from domain.concern import Concern
from projections.event_counts import EventCounts
from projections.ledger import Selection, read_ledger
from projections.ledger_figures import Clock
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF
from tests.integration.test_projections import concern_ids

ZONE = ZoneInfo("Asia/Shanghai")
END_OF_APRIL = Clock(datetime(2026, 4, 30, 18, 0, tzinfo=ZONE), ZONE)


def read_models(runner: ProjectionRunner) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model's tables but the event counts (an erasure is an event),
    in a stable order."""
    found = {}
    for p in runner.projections:
        if isinstance(p, EventCounts):
            continue
        for table in p.tables:
            rows = runner.db.fetchall(f"SELECT * FROM {p.table(table.name)}")  # noqa: S608
            found[table.name] = sorted(tuple(str(v) for v in dict(r).values()) for r in rows)
    return found


def test_erasing_the_residents_of_the_worked_story_changes_no_read_model(
    minqing: Minqing,
) -> None:
    app = minqing
    list(load_demo(app))
    runner = ProjectionRunner(app, all_projections())
    runner.catch_up()
    before = read_models(runner)
    ledger_before = read_ledger(app.db, Selection(), ("month", "grid", "category"), END_OF_APRIL)
    assert any(row for row in before["minqing_achievements"])
    residents = {
        c.resident_ref
        for c in (app.get_concern(cid) for cid in concern_ids(app))
        if isinstance(c, Concern) and c.resident_ref
    }
    assert residents, "the worked story's resident gave her name and phone"

    for ref in sorted(residents):
        erase_personal_data(app, STAFF, ref)
    runner.catch_up()

    assert read_models(runner) == before
    ledger_after = read_ledger(app.db, Selection(), ("month", "grid", "category"), END_OF_APRIL)
    assert ledger_after["rows"] == ledger_before["rows"]
    assert ledger_after["totals"] == ledger_before["totals"]
    report = audit.verify(app.db)
    assert report.ok, report.as_dict()
    assert report.checked == app.recorder.max_notification_id()
