"""The `minqing` command: serve, database, users and tokens, demo data."""

from __future__ import annotations

import argparse
import getpass
import logging
import logging.config
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from adapters import json_logs, store
from adapters.instruments import MULTIPROC_ENV
from adapters.outage import Outage, reason, unavailable
from api import audit_cli, calendar_cli, places_cli, security
from api.feeder import start_feeder
from application.bootstrap import open_minqing, open_when_ready
from application.minqing import Minqing
from application.settings import Settings
from domain import text
from domain.errors import DomainError
from domain.vocabulary import Role
from projections import registry
from projections.parking import ParkedEvent
from projections.runner import BATCH_SIZE, ProjectionRunner, RebuildReport
from workers import checkpoints, deadlines
from workers import projections as projections_worker
from workers.webhooks import run_worker as run_webhook_worker


def _text(raw: str) -> str:
    """An argument through the text policy (domain/text.py: one line, NFC); argparse names
    the argument when it is refused."""
    try:
        return text.check_single_line(raw)
    except text.TextRefused as refused:
        raise argparse.ArgumentTypeError(str(refused)) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minqing", description="Minqing 民情: residents' concerns.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=None, help="default MINQING_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default MINQING_PORT or 8000")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser(
        "init", help="create the event store, the side tables and the read models' tables"
    )

    users = sub.add_parser("users", help="principals").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="add a principal")
    add.add_argument("name", type=_text)
    add.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        help="repeat for several roles",
    )
    add.add_argument(
        "--grid", action="append", default=[], type=_text, help="limit to a grid (repeatable)"
    )
    add.add_argument(
        "--member", default=None, type=_text, help="the member id this principal acts as"
    )
    users.add_parser("list", help="list principals")
    passwd = users.add_parser(
        "passwd", help="set a principal's web UI password (argon2); ends their sessions"
    )
    passwd.add_argument("name", type=_text)
    passwd.add_argument(
        "--stdin", action="store_true", help="read the password from standard input, one line"
    )

    tokens = sub.add_parser("tokens", help="bearer tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    issue = tokens.add_parser("issue", help="issue a token; printed once, stored as a hash")
    issue.add_argument("name", type=_text, help="principal name or id")
    issue.add_argument("--label", default="", type=_text)
    revoke = tokens.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", type=_text)
    listing = tokens.add_parser("list", help="a principal's tokens (ids, never the tokens)")
    listing.add_argument("name", type=_text)

    sub.add_parser(
        "demo",
        help="load the worked story of docs/domain.md (3 March to 12 April) and write web UI"
        " passwords for its people beside the admin token (var/demo-passwords)",
    )

    worker = sub.add_parser("worker", help="long-running workers").add_subparsers(
        dest="worker_command", required=True
    )
    feed = worker.add_parser(
        "projections",
        help="feed the read models until SIGTERM/SIGINT (standby if another instance leads)",
    )
    feed.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="events per transaction")
    signer = worker.add_parser(
        "checkpoints",
        help="sign the audit chain's head when the last checkpoint is older than"
        " MINQING_AUDIT_CHECKPOINT_HOURS (24), until SIGTERM/SIGINT",
    )
    signer.add_argument("--once", action="store_true", help="check once and exit (for cron)")
    worker.add_parser(
        "webhooks",
        help="deliver webhooks until SIGTERM/SIGINT (standby if another instance leads)",
    )
    watch = worker.add_parser(
        "deadlines",
        help="record missed due dates and overdue feedback (and hotspots, with their proactive"
        " concern) every MINQING_DEADLINE_CHECK_SECONDS until SIGTERM/SIGINT (standby if"
        " another instance leads)",
    )
    watch.add_argument("--once", action="store_true", help="sweep once and exit (for cron)")

    views = sub.add_parser("projections", help="read models").add_subparsers(
        dest="projections_command", required=True
    )
    rebuild = views.add_parser(
        "rebuild", help="rebuild from position zero into fresh tables, then swap them in"
    )
    rebuild.add_argument(
        "name", nargs="?", choices=registry.names(), help="default: every one, in one pass"
    )
    views.add_parser("status", help="each projection's position, lag and parked events")
    parked = views.add_parser(
        "parked", help="events a read model failed on and passed over, and the errors"
    )
    parked.add_argument("name", nargs="?", choices=registry.names(), help="default: every one")
    retry = views.add_parser(
        "retry",
        help="after a fix: rebuild NAME, so its parked events are applied again in log order"
        " (those that still fail stay parked); exit status 1 while any stays parked",
    )
    retry.add_argument("name", choices=registry.names())
    audit_cli.add_parser(sub)
    saved = sub.add_parser(
        "backup",
        help="back the database up into the new file PATH while the service runs (SQLite's"
        " online backup; a custom-format dump on PostgreSQL); not the keys (docs/operations.md)",
    )
    saved.add_argument("path", type=Path)
    loaded = sub.add_parser(
        "restore", help="load a backup made by `minqing backup` into an empty database"
    )
    loaded.add_argument("path", type=Path)
    calendar_cli.add_parser(sub)
    places_cli.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `minqing` console command."""
    args = _parser().parse_args(argv)
    settings = Settings()
    try:
        return _command(args, settings)
    except Exception as exc:
        if not unavailable(exc):
            raise
        # A one-off command (the long-running ones wait instead): one line, no traceback.
        print(f"minqing: database unavailable: {reason(exc)}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.command in ("backup", "restore"):  # never opens the store: restore needs it empty
        return _backup_or_restore(args.command, args.path, settings)
    if args.command == "audit":  # opens the database itself: `verify --bundle` needs none
        return audit_cli.run(args, settings)
    if args.command == "worker" and args.worker_command == "checkpoints":
        return checkpoints.run_worker(settings, once=args.once)
    if args.command == "worker" and args.worker_command == "webhooks":
        return run_webhook_worker(settings)
    if args.command == "worker" and args.worker_command == "deadlines":
        return deadlines.run_worker(settings, once=args.once)
    if args.command == "worker" and args.worker_command == "projections":
        return projections_worker.run_worker(settings, args.batch_size)
    # The demo is often the very first command: it makes the admin (and its token file)
    # first, as `minqing serve` would on an empty embedded store.
    app = open_minqing(settings, first_start=args.command == "demo")
    try:
        return _run(args, app, settings)
    except DomainError as exc:
        print(f"minqing: {exc}", file=sys.stderr)
        return 1
    finally:
        app.close()


def _run(args: argparse.Namespace, app: Minqing, settings: Settings) -> int:
    if args.command == "db":
        # The read models' tables too: workers started next (the deadline watcher reads the
        # concern list) must not find them missing while the projections worker starts.
        ProjectionRunner(app, registry.all_projections())
        print(f"minqing: tables ready on {app.db.dialect} ({app.db.events_table})")
    elif args.command == "users" and args.users_command == "add":
        member = UUID(args.member) if args.member else None
        p = app.accounts.add(args.name, [Role(r) for r in args.role], args.grid, member)
        print(f"added {p.name} ({p.id}) roles={','.join(sorted(r.value for r in p.roles))}")
    elif args.command == "users" and args.users_command == "passwd":
        return _passwd(app, args.name, args.stdin)
    elif args.command == "users":
        for p in app.accounts.all():
            d = p.as_dict()
            print(f"{d['id']}  {d['name']}  roles={d['roles']} grids={d['grids']}")
    elif args.command == "tokens" and args.tokens_command == "issue":
        p = app.accounts.find(args.name)
        token_id, token = app.accounts.issue_token(p.id, args.label)
        print(
            f"token id {token_id} for {p.name} (shown once, stored only as a hash):",
            file=sys.stderr,
        )
        print(token)
    elif args.command == "tokens" and args.tokens_command == "revoke":
        app.accounts.revoke_token(args.token_id)
        print(f"revoked {args.token_id}")
    elif args.command == "tokens":
        for t in app.accounts.tokens(app.accounts.find(args.name).id):
            print(f"{t['id']}  {t['label']!r}  created {t['created_at']}", end="")
            print(f"  revoked {t['revoked_at']}" if t["revoked_at"] else "")
    elif args.command == "demo":
        _demo(app, settings)
    elif args.command == "projections":
        return _projections(app, args)
    elif args.command == "calendar":
        return calendar_cli.run(app, args)
    elif args.command == "places":
        return places_cli.run(args, app)
    return 0


def _demo(app: Minqing, settings: Settings) -> None:
    from api.demo import load_demo, write_credentials

    codes: dict[str, str] = {}
    lines = list(load_demo(app, codes))
    for line in lines:
        print(line)
    path = settings.admin_token_file.with_name("demo-passwords")
    if codes:  # loaded now: the story's people get passwords
        write_credentials(app, path, codes)
    # Where, never what: a secret must not appear in a terminal's scrollback or a log.
    if settings.embedded and settings.admin_token_file.exists():
        print(f"minqing: the admin's API token is in {settings.admin_token_file}")
    if path.exists():
        print(f"minqing: the demo's web UI passwords and tracking codes are in {path}")
    else:
        print("minqing: set web UI passwords with `minqing users passwd NAME`")


def _backup_or_restore(command: str, path: Path, settings: Settings) -> int:
    try:
        if command == "backup":
            store.backup(settings.database_url, path)
        else:
            store.restore(path, settings.database_url)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"minqing: {command} failed: {exc}", file=sys.stderr)
        return 1
    if command == "backup":
        print(
            f"minqing: backed up to {path}; the master key and the audit signing key are not"
            " in it: keep them safe, apart from it"
        )
    else:
        print(
            f"minqing: restored {path}; now `minqing audit verify`, then start the service"
            " (the read models catch up, or `minqing projections rebuild`)"
        )
    return 0


def _passwd(app: Minqing, name: str, from_stdin: bool) -> int:
    from api.ui import passwords, sessions

    principal = app.accounts.find(name)  # unknown name: NotFound before any prompt
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"new password for {principal.name}: ")
        if getpass.getpass("again: ") != password:
            print("minqing: the two passwords differ; nothing changed", file=sys.stderr)
            return 1
    passwords.set_password(app.db, app.accounts, principal.name, password)
    sessions.end_all(app.db, principal.id)
    print(f"password set for {principal.name}; they can sign in at /ui/")
    return 0


def _projections(app: Minqing, args: argparse.Namespace) -> int:
    runner = ProjectionRunner(app, registry.all_projections())
    if args.projections_command == "rebuild" and args.name:
        report = runner.rebuild(args.name)
        _warn_parked([report])
        rate = report.events / report.seconds if report.seconds else 0.0
        print(
            f"rebuilt {report.name}: {report.events} events to position {report.position}"
            f" in {report.seconds:.2f} s ({rate:,.0f} events/s)"
        )
    elif args.projections_command == "rebuild":
        # Every read model in one pass over the log, swapped in together.
        reports = runner.rebuild_all()
        _warn_parked(reports)
        for report in reports:
            print(f"rebuilt {report.name}: {report.events} events to position {report.position}")
        position, seconds = reports[0].position, reports[0].seconds
        rate = position / seconds if seconds else 0.0
        print(
            f"rebuilt {len(reports)} read models in one pass: {position} log positions"
            f" in {seconds:.2f} s ({rate:,.0f} positions/s)"
        )
    elif args.projections_command == "parked":
        _print_parked(runner.parked(args.name))
    elif args.projections_command == "retry":
        return _retry(runner, args.name)
    else:
        print(f"{'projection':<16} {'position':>10} {'head':>10} {'lag':>8} {'parked':>8}")
        for s in runner.status():
            print(f"{s.name:<16} {s.position:>10} {s.head:>10} {s.lag:>8} {s.parked:>8}")
    return 0


def _warn_parked(reports: Sequence[RebuildReport]) -> None:
    for report in reports:
        if report.parked:
            shown = ", ".join(str(p) for p in report.parked[:10])
            more = " …" if len(report.parked) > 10 else ""
            print(
                f"minqing: {report.name} parked {len(report.parked)} events it failed on"
                f" (positions {shown}{more}); see `minqing projections parked`",
                file=sys.stderr,
            )


def _print_parked(events: Sequence[ParkedEvent]) -> None:
    if not events:
        print("no parked events")
        return
    print(
        f"{'projection':<16} {'position':>10}  {'event type':<24} {'parked at':<25}"
        f" {'attempts':>8}  error"
    )
    for e in events:
        print(
            f"{e.projection:<16} {e.position:>10}  {e.event_type:<24} {e.parked_at:<25}"
            f" {e.attempts:>8}  {e.error}"
        )


def _retry(runner: ProjectionRunner, name: str) -> int:
    report = runner.retry(name)
    print(
        f"retried {name} by a rebuild: {report.rebuild.events} events to position"
        f" {report.rebuild.position}; unparked {len(report.unparked)}"
        + (f" (positions {', '.join(map(str, report.unparked))})" if report.unparked else "")
    )
    if report.still_parked:
        print(f"still parked: {len(report.still_parked)}", file=sys.stderr)
        _print_parked(report.still_parked)
        return 1
    return 0


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> int:
    # JSON log lines from the first: waiting for the database, the first start's admin.
    logging.config.dictConfig(json_logs.log_config())
    # Open once before serving, so a bad configuration fails here with its message, and a
    # database that is not up yet is waited for (uvicorn's own signal handlers come later).
    stop = threading.Event()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in handlers:
        signal.signal(sig, lambda *_: stop.set())
    try:
        app = open_when_ready(
            settings,
            stop,
            Outage("minqing serve", logging.getLogger("minqing.serve")),
            first_start=True,
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if app is None:
        return 0  # stopped while waiting for the database
    app.close()
    _metrics_directory(workers)
    security.install_log_filter()  # no tracking code in the access log
    from api.main import FREEZE_ENV  # uvicorn imports it next anyway

    os.environ.setdefault(FREEZE_ENV, "1")  # what start-up made, out of the collector's sight
    feeder = start_feeder(settings)
    try:
        _run_uvicorn(settings, host, port, workers)
    finally:
        if feeder is not None:
            feeder.stop()
    return 0


def _run_uvicorn(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="info",
        # One JSON object per line (adapters/json_logs.py); its own line per request replaces
        # uvicorn's access log.
        log_config=json_logs.log_config(),
        access_log=False,
        # Forwarded headers are believed only from MINQING_TRUSTED_PROXIES (api.security);
        # uvicorn's own handling would trust any local process.
        proxy_headers=False,
    )


def _metrics_directory(workers: int) -> None:
    """Under several worker processes, give prometheus-client a fresh directory they share
    (PROMETHEUS_MULTIPROC_DIR), so /metrics adds up all of them; the processes are started
    after this and inherit it. A directory the operator set is used as it is: it must be
    empty when the service starts (a tmpfs, or emptied by whoever starts it)."""
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="minqing-metrics-")


if __name__ == "__main__":
    raise SystemExit(main())
