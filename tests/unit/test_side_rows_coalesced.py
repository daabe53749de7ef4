"""A batch's side rows of one plain INSERT go in one statement (adapters/side_tables.py):
unprepared statements are each parsed and planned, so one per kind of row, not per row."""

from __future__ import annotations

from adapters.side_tables import coalesced

ROW = "INSERT INTO minqing_request_events (aggregate_id, version, request_id) VALUES (?, ?, ?)"
UPSERT = "INSERT INTO minqing_photos (digest) VALUES (?) ON CONFLICT (digest) DO NOTHING"
ERASE = "UPDATE minqing_resident_keys SET wrapped_key = NULL WHERE resident_ref = ?"


def test_rows_of_one_insert_share_a_statement_and_keep_their_place_around_others() -> None:
    merged = list(
        coalesced(
            [
                (ROW, ("a", 1, "r1")),
                (ROW, ("b", 1, "r1")),
                (UPSERT, ("d1",)),
                (ROW, ("c", 2, "r2")),
                (ERASE, ("k",)),
            ]
        )
    )
    assert merged == [
        (ROW.replace("(?, ?, ?)", "(?, ?, ?), (?, ?, ?)"), ("a", 1, "r1", "b", 1, "r1")),
        (UPSERT, ("d1",)),
        (ROW, ("c", 2, "r2")),
        (ERASE, ("k",)),
    ]


def test_a_long_run_is_split_into_statements_of_at_most_a_thousand_rows() -> None:
    merged = list(coalesced([(ROW, (str(n), n, "r")) for n in range(2500)]))
    assert [len(params) // 3 for _, params in merged] == [1000, 1000, 500]
    assert [p for _, params in merged for p in params[1::3]] == list(range(2500))
