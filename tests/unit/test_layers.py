"""The layer rules that `pytest` alone checks (import-linter checks the rest in `make test`).

- The domain imports the standard library, eventsourcing's domain and utils, transitions
  and itself: nothing else, not even under TYPE_CHECKING.
- SQL of one store only lives in adapters/sqlite.py and adapters/postgres.py: no other
  module compares a dialect, names a store-only column, function or catalogue in a string,
  or imports a database driver (but adapters/availability.py, which reads the drivers'
  errors, and adapters/pgpool.py, which tunes psycopg's pool).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "application", "adapters", "projections", "workers", "api")
DOMAIN_MAY_IMPORT = ("eventsourcing.domain", "eventsourcing.utils", "transitions", "domain")
DIALECTS = {"adapters/sqlite.py", "adapters/postgres.py"}
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool")
DRIVER_USERS = DIALECTS | {"adapters/availability.py", "adapters/pgpool.py"}
# Words that belong to one store's SQL: SQLite's catalogue and row ids, PostgreSQL's
# functions, catalogue, column types, COPY and LISTEN.
STORE_ONLY = (
    "rowid",
    "sqlite_master",
    "pragma",
    "autoincrement",
    "notification_id",
    "pg_",
    "information_schema",
    "bigserial",
    "copy ",
    "listen ",
)


def modules(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    """(path relative to the repository, parsed module) of every module in `packages`."""
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(), str(path))


def imported(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the module, nested ones included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module


def docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes: prose, not SQL."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_the_domain_imports_only_the_standard_library_eventsourcing_domain_and_transitions() -> (
    None
):
    wrong = [
        f"{path}:{line} imports {name}"
        for path, tree in modules("domain")
        for line, name in imported(tree)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not any(name == ok or name.startswith(ok + ".") for ok in DOMAIN_MAY_IMPORT)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_domain_imports_no_database_driver_from_the_standard_library_either() -> None:
    wrong = [
        f"{path}:{line} imports {name}"
        for path, tree in modules("domain")
        for line, name in imported(tree)
        if name.split(".")[0] in ("sqlite3", "dbm", "shelve", "socket", "http", "urllib")
    ]
    assert not wrong, "\n".join(wrong)


def test_sql_of_one_store_lives_in_the_two_dialect_modules_only() -> None:
    wrong = []
    for path, tree in modules(*PACKAGES):
        if path in DIALECTS:
            continue
        prose = docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                names = [ast.unparse(s) for s in sides]
                if any(n.endswith(("dialect", "dialect.name")) for n in names) or any(
                    isinstance(s, ast.Constant) and s.value in ("postgres", "sqlite") for s in sides
                ):
                    wrong.append(f"{path}:{node.lineno} compares {ast.unparse(node)}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                lowered = node.value.lower()
                if id(node) not in prose and any(word in lowered for word in STORE_ONLY):
                    wrong.append(f"{path}:{node.lineno} holds {node.value[:60]!r}")
        if path not in DRIVER_USERS:
            wrong += [
                f"{path}:{line} imports {name}"
                for line, name in imported(tree)
                if name.split(".")[0] in DRIVERS
            ]
    assert not wrong, "\n".join(wrong)


def test_stored_topics_keep_their_module_paths() -> None:
    """The log stores each event's topic (`domain.concern:Concern.Raised`), filters on it in
    SQL and hashes it into the audit chain: an aggregate that moved would orphan the log."""
    from domain.cloudevents import CONTRACTS
    from domain.index import Index

    modules_of = {c.event_class.__qualname__.split(".")[0]: c.topic for c in CONTRACTS}
    expected = {
        "Concern": "domain.concern:",
        "Meeting": "domain.meeting:",
        "Member": "domain.member:",
        "Visit": "domain.visit:",
        "Resident": "domain.resident_record:",
        "Hotspot": "domain.hotspot:",
    }
    assert {k: v.split(":")[0] + ":" for k, v in modules_of.items()} == expected
    assert f"{Index.__module__}:{Index.__qualname__}" == "domain.index:Index"
    assert "domain.concern:Concern.Raised" in {c.topic for c in CONTRACTS}
