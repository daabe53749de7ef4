"""The human-readable history's vocabulary: a label for every event an aggregate records,
role labels, reasons, and `changes` computed from a history in order (no database here)."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.domain import Aggregate, AggregateCreated

from domain.concern import Concern
from domain.history_labels import EVENT_LABELS, describe, event_label, reason_of, role_label
from domain.meeting import Meeting
from domain.vocabulary import Role


def recorded_event_classes(aggregate: type[Aggregate]) -> set[str]:
    """The names of the event classes an aggregate declares.

    Leaves out the aggregate's `Event` base class, and the library's default `Created`
    class when the aggregate names its own creation event (`@event("Raised")` on
    `__init__`): that default is generated but never recorded.
    """
    event_base = aggregate.Event
    classes = {
        name: value
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, event_base) and value is not event_base
    }
    own_creation = [
        v for n, v in classes.items() if n != "Created" and issubclass(v, AggregateCreated)
    ]
    if own_creation:
        classes.pop("Created", None)
    return set(classes)


@pytest.mark.parametrize("aggregate", [Concern, Meeting], ids=lambda a: a.__name__)
def test_every_event_an_aggregate_records_has_a_chinese_and_english_label(
    aggregate: type[Aggregate],
) -> None:
    declared = recorded_event_classes(aggregate)
    labels = EVENT_LABELS[aggregate.__name__]

    assert declared, "the walk found no event classes"
    assert declared - set(labels) == set(), "event types without a label"
    assert set(labels) - declared == set(), "labels for event types that do not exist"
    for name in declared:
        label = labels[name]
        assert label.zh.strip(), name
        assert label.en.strip(), name
        assert label.zh != label.en, f"{name}: the Chinese label is a copy of the English one"


def test_the_walk_finds_the_events_the_brief_names() -> None:
    assert {"Raised", "Referred", "Reopened", "DeadlineMissed"} <= recorded_event_classes(Concern)
    assert {"Scheduled", "VoteCast", "VoteClosed", "Closed"} <= recorded_event_classes(Meeting)
    assert event_label("Concern", "Raised").as_dict() == {"zh": "登记民情", "en": "Concern raised"}
    assert event_label("Meeting", "VoteCast").zh == "投票"
    assert event_label("Meeting", "VoteClosed").zh == "表决结束"


def test_labels_within_one_aggregate_are_distinct() -> None:
    for aggregate, labels in EVENT_LABELS.items():
        zh = [label.zh for label in labels.values()]
        en = [label.en for label in labels.values()]
        assert len(set(zh)) == len(zh), aggregate
        assert len(set(en)) == len(en), aggregate


def test_an_unknown_event_type_is_shown_by_its_name() -> None:
    assert event_label("Concern", "SomethingNew").as_dict() == {
        "zh": "SomethingNew",
        "en": "SomethingNew",
    }


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_has_a_role_label_from_the_vocabulary(role: Role) -> None:
    assert role_label(role.value) == {"zh": role.zh, "en": role.en}


@pytest.mark.parametrize("value", [None, "", "janitor"])
def test_a_value_that_names_no_role_has_no_role_label(value: str | None) -> None:
    assert role_label(value) is None


def test_the_reason_is_the_first_of_reason_missing_and_summary_that_is_not_blank() -> None:
    assert reason_of({"reason": "contractor ill", "note": "x"}) == "contractor ill"
    assert reason_of({"missing": "a photo of the lamp"}) == "a photo of the lamp"
    assert reason_of({"summary": "lamp replaced"}) == "lamp replaced"
    assert reason_of({"reason": "  ", "summary": "lamp replaced"}) == "lamp replaced"
    assert reason_of({"note": "called the resident"}) is None
    assert reason_of({}) is None


def entry(version: int, type_: str, **data: Any) -> dict[str, Any]:
    """A history entry as Minqing.history makes it."""
    return {
        "version": version,
        "type": type_,
        "at": "2026-03-02T09:00:00+08:00",
        "recorded_at": "2026-03-02T01:00:00+00:00",
        "actor": "staff-1",
        "role": "staff",
        "data": data,
    }


def test_changes_show_the_status_from_and_to_at_every_step() -> None:
    history = describe(
        "Concern",
        [
            entry(1, "Raised", title="路灯"),
            entry(2, "Referred", status="committee", note=""),
            entry(3, "ReturnedForInfo", status="intake", missing="a photo"),
            entry(4, "Referred", status="committee", note=""),
            entry(5, "Declined", status="declined", reason="not ours"),
        ],
    )

    assert [e["changes"]["status"] for e in history] == [
        {"from": None, "to": "intake"},
        {"from": "intake", "to": "committee"},
        {"from": "committee", "to": "intake"},
        {"from": "intake", "to": "committee"},
        {"from": "committee", "to": "declined"},
    ]
    assert [e["reason"] for e in history] == [None, None, "a photo", None, "not ours"]


def test_an_event_that_keeps_the_status_shows_no_status_change() -> None:
    history = describe(
        "Concern",
        [
            entry(1, "Raised"),
            entry(2, "HandledNow", status="assigned", owner="o-1", duty_role="mediator",
                  due_on="2026-04-01", note=""),
            entry(3, "ProgressRecorded", status="assigned", note="called"),
        ],
    )  # fmt: skip

    assert history[2]["changes"] == {}


def test_due_date_and_owner_changes_show_from_and_to() -> None:
    history = describe(
        "Concern",
        [
            entry(1, "Raised"),
            entry(2, "HandledNow", status="assigned", owner="o-1", duty_role="mediator",
                  due_on="2026-04-01", note=""),
            entry(3, "DeadlineExtended", status="assigned", due_on="2026-04-15",
                  previous_due_on="2026-04-01", reason="parts late"),
            entry(4, "Reassigned", status="assigned", owner="o-2", duty_role="mediator",
                  previous_owner="o-1", reason="on leave"),
            entry(5, "SentBack", status="committee", reason="not a dispute"),
        ],
    )  # fmt: skip

    assert history[1]["changes"] == {
        "status": {"from": "intake", "to": "assigned"},
        "owner": {"from": None, "to": "o-1"},
        "duty_role": {"from": None, "to": "mediator"},
        "due_on": {"from": None, "to": "2026-04-01"},
    }
    assert history[2]["changes"] == {"due_on": {"from": "2026-04-01", "to": "2026-04-15"}}
    assert history[3]["changes"] == {"owner": {"from": "o-1", "to": "o-2"}}
    assert history[4]["changes"] == {
        "status": {"from": "assigned", "to": "committee"},
        "owner": {"from": "o-2", "to": None},
        "duty_role": {"from": "mediator", "to": None},
        "due_on": {"from": "2026-04-15", "to": None},
    }


def test_describing_adds_keys_and_leaves_the_existing_ones_as_they_were() -> None:
    original = [entry(1, "Scheduled", title="主题党日"), entry(2, "Opened", present=[])]
    before = [dict(e) for e in original]

    described = describe("Meeting", original)

    for old, new in zip(before, described, strict=True):
        assert {k: new[k] for k in old} == old
        assert set(new) - set(old) == {"label", "role_label", "reason", "changes"}
    assert described[1]["label"] == {"zh": "会议开始", "en": "Meeting opened"}
    assert described[1]["role_label"] == {"zh": Role.STAFF.zh, "en": Role.STAFF.en}
    assert described[1]["changes"] == {"status": {"from": "scheduled", "to": "open"}}
