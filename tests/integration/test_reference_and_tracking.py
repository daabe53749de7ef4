"""References `MQ-<year>-<6 digits>` follow the application clock's year and restart each
year; a concern is found by its reference or its tracking code, and nothing else is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from application.minqing import Minqing
from domain.errors import NotFound
from tests.integration.support import STAFF, draft, open_app

ZONE = ZoneInfo("Asia/Shanghai")
TRACKING_CODE = re.compile(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 12, 31, 23, 59, 30, tzinfo=ZONE))


@pytest.fixture
def app(database_url: str, master_key: bytes, clock: Clock) -> Iterator[Minqing]:
    application = open_app(database_url, master_key, clock=clock)
    try:
        yield application
    finally:
        application.close()


def raise_one(app: Minqing, title: str = "路灯不亮") -> tuple[UUID, str, str]:
    """Raise a concern: its id, reference and tracking code."""
    result = app.raise_concern(STAFF, draft(title=title))
    assert result.reference
    assert result.tracking_code
    return UUID(result.id), result.reference, result.tracking_code


def test_references_carry_the_clock_year_and_six_digits(app: Minqing) -> None:
    references = [raise_one(app)[1] for _ in range(3)]

    assert references == ["MQ-2025-000001", "MQ-2025-000002", "MQ-2025-000003"]
    assert all(re.fullmatch(r"MQ-\d{4}-\d{6}", ref) for ref in references)


def test_numbering_restarts_each_year_and_continues_after_reopening(
    app: Minqing, clock: Clock, database_url: str, master_key: bytes
) -> None:
    assert raise_one(app)[1] == "MQ-2025-000001"
    assert raise_one(app)[1] == "MQ-2025-000002"

    clock.now = datetime(2026, 1, 1, 0, 0, 5, tzinfo=ZONE)
    assert raise_one(app)[1] == "MQ-2026-000001"
    assert raise_one(app)[1] == "MQ-2026-000002"
    app.close()

    reopened = open_app(database_url, master_key, clock=clock)
    try:
        assert raise_one(reopened)[1] == "MQ-2026-000003"
        clock.now = datetime(2027, 3, 1, 9, 0, tzinfo=ZONE)
        assert raise_one(reopened)[1] == "MQ-2027-000001"
        assert reopened.concern_by_reference("MQ-2025-000002").reference == "MQ-2025-000002"
    finally:
        reopened.close()


def test_a_concern_is_found_by_its_reference(app: Minqing) -> None:
    first, first_ref, _ = raise_one(app, "第一件")
    second, second_ref, _ = raise_one(app, "第二件")
    app.refer(second, STAFF)

    assert app.concern_by_reference(first_ref).id == first
    found = app.concern_by_reference(second_ref)
    assert found.id == second
    assert found.title == "第二件"
    assert found.status == "committee"  # the lookup gives the concern as it is now
    assert found.raised_at == datetime(2025, 12, 31, 23, 59, 30, tzinfo=ZONE)


def test_a_concern_is_found_by_its_tracking_code_however_it_is_typed(app: Minqing) -> None:
    concern_id, reference, code = raise_one(app)
    other_id, _, other_code = raise_one(app, "另一件")

    assert TRACKING_CODE.fullmatch(code)
    assert code != other_code
    assert app.track(code).id == concern_id
    assert app.track(f"  {code.lower()} ").id == concern_id
    assert app.track(other_code).id == other_id
    assert app.get_concern(concern_id).tracking_code == code
    assert app.public_view(app.track(code))["reference"] == reference


def test_unknown_references_are_not_found(app: Minqing) -> None:
    raise_one(app)

    for reference in ["MQ-2025-999999", "MQ-2024-000001", "", "mq-2025-000001"]:
        with pytest.raises(NotFound) as missing:
            app.concern_by_reference(reference)
        assert missing.value.kind == "concern"
        assert missing.value.ident == reference


def test_unknown_tracking_codes_are_not_found(app: Minqing) -> None:
    raise_one(app)

    for code in ["ZZZZZZZZZZZZ", "", "2345"]:
        with pytest.raises(NotFound) as missing:
            app.track(code)
        assert missing.value.kind == "tracking code"
        assert missing.value.ident == code


def test_a_reference_is_not_a_tracking_code_nor_the_other_way_round(app: Minqing) -> None:
    concern_id, reference, code = raise_one(app)

    with pytest.raises(NotFound):
        app.track(reference)
    with pytest.raises(NotFound):
        app.concern_by_reference(code)
    with pytest.raises(NotFound):
        app.concern_by_reference(str(concern_id))
