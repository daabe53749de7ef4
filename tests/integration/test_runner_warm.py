"""A runner that starts following the log loads the word segmenter's dictionary first, so
the first concern raised after a (re)start is not the one that waits about a second for it
(bench/projections.py saw that second as the lag's p99)."""

from __future__ import annotations

import time

import pytest

from projections import text_match
from projections.registry import all_projections
from projections.runner import ProjectionRunner, running
from tests.integration.support import open_app


def test_a_runner_loads_the_dictionary_before_any_event_needs_it(
    database_url: str, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_match, "_loaded", False)
    app = open_app(database_url, master_key)
    try:
        runner = ProjectionRunner(app, all_projections())
        assert not text_match._loaded  # making the runner (as the API does) loads nothing
        with running(runner):
            deadline = time.monotonic() + 30
            while not text_match._loaded:
                assert time.monotonic() < deadline, "the runner did not load the dictionary"
                time.sleep(0.05)
        assert runner.head() == 0  # no event asked for it: the log is empty
    finally:
        app.close()
