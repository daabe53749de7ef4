"""axe-core (the npm package, installed by `make install` into tests/browser/node_modules)
runs inside Chromium on every page of the web UI, in Chinese and in English: no serious or
critical violation is allowed.

axe is injected with `page.evaluate(source)`: the DevTools protocol evaluates it in the page
without a <script> element, so the service's Content-Security-Policy (no inline script)
stays in force for the page itself and is not bypassed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site
from tests.browser.test_pages import _world

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def axe_source() -> str:
    """axe.min.js as installed by `make install` (npm ci in tests/browser)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci in tests/browser)")
    return AXE.read_text(encoding="utf-8")


def violations(page: Any, source: str) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page as it is now."""
    page.evaluate(source)
    found: list[dict[str, Any]] = page.evaluate(RUN)
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_has_no_serious_or_critical_axe_violation(site: Site, lang: str) -> None:
    source = axe_source()
    pages = _world(site, lang)
    meeting = next(p for p in pages if p.startswith("/ui/meetings/") and "/vote" not in p)
    pages += [f"{meeting}/minutes", f"{meeting}/projector"]
    intake, assigned = [p for p in pages if re.fullmatch(r"/ui/concerns/[0-9a-f-]{36}", p)][:2]
    pages += [
        f"{intake}/act/decline?next=/ui/triage",
        f"{intake}/act/merge_into?next=/ui/triage",
        f"{intake}/receipt",
        f"{assigned}/slip",
        "/ui/concerns?q=nothing-matches",
        "/ui/inbox",
        "/ui/dashboard",
        "/ui/dashboard/open?figure=feedback_given",
        "/ui/outbox",
        "/ui/hotspots",
        "/ui/places?grid=7",
        "/ui/grids/7/boundary",
        "/ui/scorecards",
        "/ui/scorecards?subject=grid",
    ]
    # Chinese on a phone, English on a desktop: each layout is checked once.
    page = site.page(f"boss-{lang}", lang=lang, phone=lang == "zh")
    found = {}
    for path in pages:
        page.goto(site.base + path)
        problems = violations(page, source)
        if problems:
            found[path] = problems
    anonymous = site.page(lang=lang)
    for path in (
        "/ui/sign-in",
        "/ui/track",
        "/ui/public/achievements",
        "/ui/public/commitments",
        "/ui/public/figures",
        "/ui/public/board",
    ):
        anonymous.goto(site.base + path)
        problems = violations(anonymous, source)
        if problems:
            found[path] = problems
    lines = [
        f"{path}: {v['id']} ({v['impact']}) at {v['nodes']}"
        for path, vs in found.items()
        for v in vs
    ]
    assert not lines, "\n".join(lines)
