"""`minqing calendar …`: show a year of the work calendar, mark a day a holiday or a working
day (as an admin principal, recorded as an event like the API's PUT)."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from application.calendars import check_year
from application.minqing import Minqing
from domain import text
from domain.work_calendar import DayKind


def _line(raw: str) -> str:
    # The text policy, as every name on the command line (argparse names the argument).
    try:
        return text.check_single_line(raw)
    except text.TextRefused as refused:
        raise argparse.ArgumentTypeError(str(refused)) from None


def add_parser(sub: Any) -> None:
    """Add the `calendar` subcommands to the `minqing` parser."""
    p = sub.add_parser("calendar", help="the work calendar: holidays and make-up working days")
    cmds = p.add_subparsers(dest="calendar_command", required=True)
    show = cmds.add_parser("show", help="a year's holidays and make-up working days, as JSON")
    show.add_argument("year", type=int)
    mark = cmds.add_parser("set", help="make a day a holiday or a working day")
    mark.add_argument("day", type=date.fromisoformat, help="YYYY-MM-DD")
    mark.add_argument("kind", choices=[k.value for k in DayKind])
    mark.add_argument("--name", type=_line, help="e.g. 国庆节, 国庆节调休")
    mark.add_argument(
        "--user", type=_line, default="admin", help="the admin principal acting (default admin)"
    )


def run(app: Minqing, args: argparse.Namespace) -> int:
    """Run one `minqing calendar` subcommand."""
    if args.calendar_command == "show":
        check_year(args.year)
        print(json.dumps(app.calendar_view(args.year), ensure_ascii=False, indent=2))
        return 0
    principal = app.accounts.find(args.user)
    result = app.mark_day(principal, args.day, DayKind(args.kind), args.name)
    print(f"{args.day.isoformat()} is now a {args.kind} (calendar version {result.version})")
    return 0
