"""`minqing demo` as a newcomer runs it, before anything else: on a fresh store it leaves
them able to sign in to the web UI (and to call the API as admin), printing where the
credentials are and never the secrets themselves."""

from __future__ import annotations

import base64
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, create_database, drop_database, start_server
from tests.e2e.ui_client import browser, sign_in, text_of

PEOPLE = {"wangfang", "grid2-leader", "committee", "chen-chair", "liqiang", "supervisor"}
PEOPLE |= {"demo-admin"}


@dataclass
class Store:
    """Where the demo is loaded: the environment it runs with and the database's URL."""

    env: dict[str, str]
    url: str
    master_key: str | None  # base64; None: the embedded store's key file


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store: on SQLite nothing configured at all (the defaults under ./var, as after
    a clone); on PostgreSQL a new database and a master key, as the README says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
    if request.param == "sqlite":
        yield Store(env, f"sqlite:///{tmp_path / 'var' / 'minqing.db'}", None)
        return
    admin = request.getfixturevalue("postgres_admin")
    url = create_database(admin)
    key = base64.b64encode(os.urandom(32)).decode()
    try:
        yield Store({**env, "MINQING_DATABASE_URL": url, "MINQING_MASTER_KEY": key}, url, key)
    finally:
        drop_database(admin, url)


def _minqing() -> list[str]:
    """The `minqing` console command of this environment (as `make demo` runs it)."""
    script = Path(sys.executable).with_name("minqing")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def _credentials(path: Path) -> dict[str, str]:
    """user -> password, from the file's table (comment lines start with #)."""
    rows = [line.split() for line in path.read_text().splitlines() if not line.startswith("#")]
    return {row[0]: row[1] for row in rows if row}


def test_the_demo_on_a_fresh_store_prints_where_the_passwords_are_and_they_sign_in(
    store: Store, tmp_path: Path
) -> None:
    done = subprocess.run(  # noqa: S603 (our own console command)
        [*_minqing(), "demo"],
        cwd=tmp_path,
        env=store.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = done.stdout + done.stderr
    assert "12 April: the resident says satisfied" in done.stdout
    found = re.search(r"passwords and tracking codes are in (\S+)", done.stdout)
    assert found, done.stdout
    path = tmp_path / found.group(1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = _credentials(path)
    assert set(credentials) == PEOPLE
    codes = re.findall(r"^# (MQ-\d{4}-\d{6}) (\S+)$", path.read_text(), re.MULTILINE)
    assert len(codes) == 3
    for secret in [*credentials.values(), *(code for _, code in codes)]:
        assert secret not in printed  # where, never what

    token = None
    if store.master_key is None:  # the embedded store's first start made the admin
        token_file = tmp_path / "var" / "admin-token"
        assert f"its token is in {Path('var') / 'admin-token'}" in done.stderr
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert token not in printed
    key = store.master_key or (tmp_path / "var" / "master.key").read_text().strip()

    for server in start_server(store.url, tmp_path / "server", master_key=key):
        for name, password in credentials.items():
            with browser(server) as client:
                r = sign_in(client, name, password)
                assert r.status_code == 303, (name, r.text)
                assert r.headers["location"] == "/ui/"
                assert name in text_of(client.get("/ui/").text)
        with browser(server) as client:
            sign_in(client, "liqiang", credentials["liqiang"])
            # Li Qiang's page lists the streetlights he resolved in the story.
            assert "MQ-2026-000001" in text_of(client.get("/ui/concerns/MQ-2026-000001").text)
        reference, code = codes[0]
        tracked = httpx.get(f"{server.base_url}/api/v1/track/{code}", timeout=30)
        assert tracked.status_code == 200
        assert tracked.json()["reference"] == reference
        if token is not None:
            listed = httpx.get(
                f"{server.base_url}/api/v1/concerns",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert listed.status_code == 200
