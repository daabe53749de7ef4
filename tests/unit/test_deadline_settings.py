"""The deadline watcher's configuration: the feedback window and how often it looks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from application.settings import Settings
from workers.deadlines import WatcherConfig


def test_the_feedback_window_is_seven_days_and_the_check_every_minute_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MINQING_FEEDBACK_WINDOW_DAYS", raising=False)
    monkeypatch.delenv("MINQING_DEADLINE_CHECK_SECONDS", raising=False)

    config = WatcherConfig.from_settings(Settings())

    assert (config.feedback_window_days, config.interval_seconds) == (7, 60.0)


def test_both_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINQING_FEEDBACK_WINDOW_DAYS", "3")
    monkeypatch.setenv("MINQING_DEADLINE_CHECK_SECONDS", "0.5")

    config = WatcherConfig.from_settings(Settings())

    assert (config.feedback_window_days, config.interval_seconds) == (3, 0.5)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MINQING_FEEDBACK_WINDOW_DAYS", "0"), ("MINQING_DEADLINE_CHECK_SECONDS", "0")],
)
def test_a_window_or_interval_that_is_not_positive_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError, match=variable.removeprefix("MINQING_").lower()):
        Settings()


def test_the_watcher_refuses_a_window_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="MINQING_FEEDBACK_WINDOW_DAYS"):
        WatcherConfig(feedback_window_days=0)
    with pytest.raises(ValueError, match="MINQING_DEADLINE_CHECK_SECONDS"):
        WatcherConfig(interval_seconds=0)
