"""`minqing audit …`: sign a checkpoint, verify the chain or a bundle, export a bundle.

Exit status: 0 when verification passes, 1 when it finds a problem (the report says the
first), 2 for bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters import audit
from api.audit_keys import signing_key
from application.bootstrap import open_minqing
from application.minqing import Minqing
from application.settings import Settings


def add_parser(sub: Any) -> None:
    """Add the `audit` subcommands to the `minqing` parser."""
    p = sub.add_parser("audit", help="tamper evidence: checkpoints, verification, export")
    cmds = p.add_subparsers(dest="audit_command", required=True)
    cmds.add_parser("checkpoint", help="chain every stored event and sign the chain's head")
    check = cmds.add_parser(
        "verify", help="recompute the chain from the stored events (or verify a bundle offline)"
    )
    check.add_argument("--bundle", type=Path, help="verify this exported bundle, no database")
    check.add_argument("--public-key", help="pin the signer: base64 of the raw public key")
    check.add_argument(
        "--checkpoints", type=Path, help="a checkpoints export kept elsewhere; pins its key"
    )
    export = cmds.add_parser("export", help="write a bundle that verifies offline")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--concern", help="one concern's events (id or MQ-… reference)")
    which.add_argument("--from", dest="start", type=int, help="first log position")
    export.add_argument("--to", dest="end", type=int, help="last log position (with --from)")
    export.add_argument("--out", type=Path, help="the bundle file (default: standard output)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `minqing audit` subcommand."""
    if args.audit_command == "verify" and args.bundle is not None:
        return _verify_bundle(args)
    if args.audit_command == "export" and args.start is not None and args.end is None:
        print("minqing: --from needs --to", file=sys.stderr)
        return 2
    app = open_minqing(settings)
    try:
        return _with_database(args, settings, app)
    except ValueError as exc:
        print(f"minqing: {exc}", file=sys.stderr)
        return 2
    finally:
        app.close()


def _with_database(args: argparse.Namespace, settings: Settings, app: Minqing) -> int:
    if args.audit_command == "checkpoint":
        key = signing_key(settings, create=True)
        if key is None:
            print("minqing: set MINQING_AUDIT_SIGNING_KEY to sign checkpoints", file=sys.stderr)
            return 2
        _print(audit.make_checkpoint(app.db, key).as_dict())
        return 0
    if args.audit_command == "verify":
        key = signing_key(settings, create=False)
        trusted = args.public_key or (audit.public_key_b64(key) if key else None)
        report = audit.verify(app.db, trusted)
        _print(report.as_dict())
        return 0 if report.ok else 1
    concern = _concern(app, args.concern) if args.concern else None
    lines = audit.export_bundle(
        app.db,
        concern=concern,
        start=args.start,
        end=args.end,
        key=signing_key(settings, create=True),
    )
    text = audit.write_bundle(lines)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        events = sum(1 for x in lines if x["kind"] == "event")
        print(f"minqing: wrote {events} events to {args.out}", file=sys.stderr)
    return 0


def _concern(app: Minqing, raw: str) -> UUID:
    if raw.startswith("MQ-"):
        return app.concern_by_reference(raw).id
    return UUID(raw)


def _verify_bundle(args: argparse.Namespace) -> int:
    try:
        text = args.bundle.read_text(encoding="utf-8")
        kept = (
            audit.read_kept_checkpoints(args.checkpoints.read_text(encoding="utf-8"))
            if args.checkpoints
            else []
        )
    except (OSError, ValueError) as exc:
        print(f"minqing: {exc}", file=sys.stderr)
        return 2
    report = audit.verify_bundle(text, args.public_key, kept)
    _print(report.as_dict())
    return 0 if report.ok else 1


def _print(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))
