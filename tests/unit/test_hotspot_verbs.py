"""Recording a hotspot on the in-memory store: the hotspot and its proactive concern (主动治理)
saved together, the concern referred to the committee with no resident and linked to the
concerns behind it; once per hotspot and window (a second recording records nothing)."""

from __future__ import annotations

from datetime import timedelta

from application.hotspots import FoundHotspot
from domain.lifecycle import Status
from tests.unit.verbs_support import open_office


def test_a_hotspot_is_recorded_once_with_its_proactive_concern() -> None:
    office = open_office()
    app = office.app
    behind = tuple(str(office.raise_concern()) for _ in range(3))
    now = office.clock()
    found = FoundHotspot(
        grid="2",
        kind="cell",
        where="500:3361:24084",
        category="environment",
        starts=now,
        ends=now + timedelta(days=30),
        concern_ids=behind,
        days=1,
        high_incidence=False,
    )
    made = app.record_hotspot(found)
    assert made is not None
    proactive = app.get_concern(made)
    assert proactive.kind == "proactive"
    assert proactive.status == Status.COMMITTEE.value
    assert proactive.residents_count == 0
    assert str(proactive.hotspot) == str(found.id)
    assert sorted(map(str, proactive.linked)) == sorted(behind)
    before = app.recorder.max_notification_id()
    assert app.record_hotspot(found) is None  # once per hotspot and window
    assert app.recorder.max_notification_id() == before
