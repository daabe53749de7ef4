"""Which errors park an event and which are the database's, to be waited out."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing.persistence import DataError, OperationalError, ProgrammingError

from projections.parking import error_text, transient


def wrapped(wrapper: type[Exception], cause: Exception) -> Exception:
    """An exception raised `from` another, as eventsourcing wraps the driver's."""
    try:
        raise wrapper(str(cause)) from cause
    except wrapper as exc:
        return exc


def test_errors_of_the_databases_availability_are_transient() -> None:
    for exc in (
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        psycopg.OperationalError("connection refused"),
        psycopg.InterfaceError("the connection is closed"),
        sqlite3.OperationalError("database is locked"),
        wrapped(OperationalError, psycopg.OperationalError("server closed the connection")),
        wrapped(OperationalError, sqlite3.OperationalError("database is locked")),
        OperationalError("could not connect"),
        ConnectionRefusedError(),
    ):
        assert transient(exc), repr(exc)


def test_errors_of_the_read_model_or_the_event_are_not() -> None:
    for exc in (
        RuntimeError("a bug"),
        KeyError("title"),
        psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        psycopg.errors.UndefinedTable("relation does not exist"),
        sqlite3.OperationalError("no such table: test_picky"),
        wrapped(OperationalError, sqlite3.OperationalError("no such column: x")),
        wrapped(DataError, psycopg.DataError("invalid byte sequence")),
        wrapped(ProgrammingError, psycopg.ProgrammingError("syntax error")),
    ):
        assert not transient(exc), repr(exc)


def test_an_error_text_holds_no_nul_and_is_bounded() -> None:
    text = error_text(ValueError("bad\x00byte " + "x" * 5000))
    assert "\x00" not in text
    assert text.startswith("ValueError: bad\\x00byte ")
    assert len(text) == 2000
