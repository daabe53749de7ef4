"""What a register's API route and its web page share (api/routes/ledger.py and
scorecards.py; api/ui/pages/ledger.py, dashboard.py and scorecards.py): the clock the
ledger's figures are computed at, the workbook's media type, and the scorecards a caller may
read. Not a route module, so the pages import it and never a route."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.params import selection
from application.minqing import Minqing
from application.settings import Settings
from domain.principal import Principal
from projections.ledger_figures import Clock
from projections.scorecard_figures import Subject, read_scorecards

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def clock(app: Minqing, settings: Settings) -> Clock:
    """Now, the community's zone, and the configured response window."""
    return Clock(app.clock(), app.zone, timedelta(days=settings.response_window_days))


def scorecards_of(
    app: Minqing,
    settings: Settings,
    principal: Principal,
    subject: Subject,
    span: tuple[str | None, str | None],
) -> dict[str, Any]:
    """The scorecards the caller may read (their grids' concerns only), owners named."""
    chosen = selection(principal, span[0], span[1], None)
    now = app.clock()
    first = chosen.start.year if chosen.start else now.year - 1
    calendar = app.work_calendar(min(first, now.year), now.year)
    found = read_scorecards(
        app.db,
        (chosen.start, chosen.end),
        chosen.scope,
        subject,
        settings.score_rules,
        calendar,
    )
    names = {str(m.id): m.name for m in app.list_members()} if subject is Subject.OWNER else {}
    for card in found["scorecards"]:
        card["name"] = names.get(card["subject"]) if names else None
    return {**found, "as_of": now.astimezone(app.zone).isoformat()}
