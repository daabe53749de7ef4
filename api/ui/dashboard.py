"""The dashboard's figures: the indicators by month and by grid from the ledger's
definitions (projections/ledger_figures.py), trends drawn as SVG on the server, and the
rule for public figures (a count under `SMALL` is hidden, and so is a rate over one)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

INDICATORS = (
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_closure_rate",
    "rework_rate",
    "extension_rate",
    "decline_rate",
    "suspension_rate",
    "void_rate",
    "accurate_filing_rate",
)
# Public figures hide any count below this, so nobody is recognisable in a small cell.
SMALL = 5
WIDTH, HEIGHT, PAD = 320, 120, 24


def cell(rate: dict[str, Any] | None, public: bool) -> dict[str, Any]:
    """One indicator of one cell as the page shows it: percent, parts, hidden when small."""
    if not rate or rate.get("denominator") is None:
        return {"percent": None, "numerator": None, "denominator": None, "hidden": False}
    hidden = public and (rate["denominator"] < SMALL or rate["numerator"] < SMALL)
    if hidden:
        return {"percent": None, "numerator": None, "denominator": None, "hidden": True}
    shown = {
        "percent": rate["percent"],
        "numerator": rate["numerator"],
        "denominator": rate["denominator"],
        "hidden": False,
    }
    if "split" in rate:
        split = rate["split"]
        shown["split"] = {k: (None if public and v < SMALL else v) for k, v in split.items()}
    return shown


def trend_svg(points: list[tuple[str, float | None]], title: str) -> Markup:
    """A line of percentages over months as an inline SVG (no script, no external file):
    the months along the bottom, 0-100 % up the side, a gap where a month has no value."""
    n = len(points)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(i: int) -> float:
        return PAD + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(v: float) -> float:
        return PAD + inner_h * (1 - v / 100)

    runs: list[list[str]] = [[]]
    dots = []
    for i, (_, value) in enumerate(points):
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
        dots.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="2.5"/>')
    lines = "".join(
        f'<polyline points="{" ".join(run)}" fill="none" stroke="currentColor" stroke-width="2"/>'
        for run in runs
        if len(run) > 1
    )
    labels = ""
    if points:
        first, last = points[0][0], points[-1][0]
        labels = (
            f'<text x="{PAD}" y="{HEIGHT - 6}" font-size="10">{escape(first)}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" font-size="10" text-anchor="end">'
            f"{escape(last)}</text>"
        )
    axis = (
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#767676"/>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"'
        ' stroke="#767676"/>'
        f'<text x="{PAD - 4}" y="{PAD + 4}" font-size="10" text-anchor="end">100</text>'
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" font-size="10" text-anchor="end">0</text>'
    )
    summary = "; ".join(f"{m}: {'—' if v is None else f'{v}%'}" for m, v in points)
    # Safe: every text in it (title, months, values) is escaped above; the rest is numbers.
    return Markup(  # noqa: S704
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' role="img" aria-label="{escape(title)}: {escape(summary)}">'
        f"<title>{escape(title)}</title>{axis}{lines}<g>{''.join(dots)}</g>{labels}</svg>"
    )
