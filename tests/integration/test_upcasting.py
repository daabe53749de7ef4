"""A log written in an event's previous shape still loads, on both stores: the visits in
tests/fixtures/visits-v1.jsonl were recorded by the code before households were sealed
(`Visit.Recorded` version 1, without the three household fields). The library upcasts each
as it loads (`Visit.Recorded.upcast_v1_v2`); the stored bytes, so the audit chain, stay as
they were; a visit recorded now is stored as version 2."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from adapters import audit
from application.minqing import Minqing, NewVisit
from domain.visit import Visit
from projections.ledger import Selection, read_ledger
from projections.ledger_figures import Clock
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import STAFF

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "visits-v1.jsonl"


def stored_v1() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def load_fixture(app: Minqing) -> list[dict[str, Any]]:
    rows = stored_v1()
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(r["originator_id"]),
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=r["state"].encode(),
            )
            for r in rows
        ]
    )
    return rows


def test_the_fixture_is_in_the_previous_shape() -> None:
    for row in stored_v1():
        state = json.loads(row["state"])
        assert row["topic"] == "domain.visit:Visit.Recorded"
        assert "class_version" not in state
        assert not {"household_ref", "household_sealed", "household_key"} & set(state)


def test_visits_stored_in_the_previous_shape_load_count_and_keep_their_bytes(
    minqing: Minqing,
) -> None:
    rows = load_fixture(minqing)
    first = UUID(rows[0]["originator_id"])

    loaded = minqing.get_visit(first)
    assert isinstance(loaded, Visit)
    assert (loaded.household, loaded.household_ref) == ("5号楼201室", None)
    assert loaded.priority_visit == "elderly_sick"
    assert minqing.household_of(loaded) == "5号楼201室"
    # Loading never rewrote anything: the stored bytes are the fixture's.
    (stored,) = minqing.recorder.select_events(first)
    assert stored.state.decode() == rows[0]["state"]

    # A visit recorded now is version 2, with its household sealed.
    today = date.today() - timedelta(days=1)
    saved = minqing.record_visit(
        STAFF, NewVisit(grid="2", household="9号楼301室", visited_on=today)
    )
    (new,) = minqing.recorder.select_events(UUID(saved.id))
    state = json.loads(new.state)
    assert state["class_version"] == 2
    assert state["household_ref"] is not None
    assert new.topic == rows[0]["topic"]

    # The read models read both shapes: three visits, three households, one priority visit.
    ProjectionRunner(minqing, all_projections()).catch_up()
    now = Clock(datetime.now(minqing.zone), minqing.zone)
    figures = read_ledger(minqing.db, Selection(), (), now)["totals"]["figures"]
    assert (figures["visits"], figures["households_visited"]) == (3, 3)
    assert audit.verify(minqing.db, None).ok


def test_without_the_upcaster_the_previous_shape_would_not_load(
    minqing: Minqing, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = load_fixture(minqing)
    monkeypatch.setattr(Visit.Recorded, "upcast_v1_v2", staticmethod(lambda state: None))
    with pytest.raises(TypeError):
        minqing.get_visit(UUID(rows[0]["originator_id"]))
