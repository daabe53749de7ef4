"""The ledger's tallies: every figure of projections/ledger_figures.py's table computed over a
cell's concerns and visits, and the concerns or visits a figure opens into (the drill-down
reads the same tests, so a cell and the list behind it cannot disagree).

Pure functions: facts in, figures out.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from domain.errors import Invalid
from domain.vocabulary import Category, Satisfaction
from projections.ledger_facts import ConcernFacts, Figure, Subject, VisitFacts
from projections.ledger_figures import BY_NAME, FIGURES


def _rate_value(numerator: int, denominator: int) -> dict[str, Any]:
    ratio = numerator / denominator if denominator else None
    return {
        "value": None if ratio is None else round(ratio, 4),
        "percent": None if ratio is None else round(ratio * 100, 1),
        "numerator": numerator,
        "denominator": denominator,
    }


def _opened(figure: Figure) -> Figure:
    if figure.opens is None:
        msg = (
            f"{figure.name} is a rate: open its numerator {figure.numerator}"
            f" or its denominator {figure.denominator}"
        )
        raise Invalid([("figure", msg)])
    return BY_NAME[figure.opens]


def concerns_of(
    figure: Figure, concerns: Sequence[ConcernFacts], today: date
) -> list[ConcernFacts]:
    """The concerns a concern figure counts or summarises: what its cell opens into."""
    opened = _opened(figure)
    test = opened.concern_test
    if test is None:
        raise Invalid([("figure", f"{figure.name} counts visits, not concerns")])
    # A voided concern counts only where a figure counts voids (projections/ledger_exceptions).
    return [c for c in concerns if test(c, today) and (opened.counts_voided or not c.voided)]


def visits_of(figure: Figure, visits: Sequence[VisitFacts]) -> list[VisitFacts]:
    """The visits a visit figure counts: what its cell opens into."""
    test = _opened(figure).visit_test
    if test is None:
        raise Invalid([("figure", f"{figure.name} counts concerns, not visits")])
    return [v for v in visits if test(v)]


def _value(
    figure: Figure, concerns: Sequence[ConcernFacts], visits: Sequence[VisitFacts], today: date
) -> Any:
    if figure.kind == "distinct":
        return len({v.household_key for v in visits_of(figure, visits)})
    if figure.subject == "visits":
        return len(visits_of(figure, visits))
    basis = concerns_of(figure, concerns, today)
    if figure.kind == "median":
        days = [d for c in basis if (d := c.days_to_resolve) is not None]
        return statistics.median(days) if days else None
    if figure.kind == "residents":
        return sum(c.residents for c in basis)
    if figure.kind == "reasons":
        reasons = Counter(c.decline_reason or "" for c in basis)
        return [{"reason": r, "count": n} for r, n in sorted(reasons.items(), key=_by_count)]
    return len(basis)


def compute(
    concerns: Sequence[ConcernFacts],
    visits: Sequence[VisitFacts],
    today: date,
    subjects: Iterable[Subject] = ("concerns", "visits"),
) -> dict[str, Any]:
    """Every figure over these concerns and visits; figures of a subject not in `subjects`
    are None (visits have no category, so a category's row has no visit figures)."""
    wanted = set(subjects)
    values: dict[str, Any] = {}
    for figure in FIGURES:
        if figure.subject not in wanted:
            values[figure.name] = None
        elif figure.kind != "rate":
            values[figure.name] = _value(figure, concerns, visits, today)
    for figure in FIGURES:
        if figure.kind == "rate" and figure.subject in wanted:
            numerator, denominator = figure.parts
            rate = _rate_value(values[numerator], values[denominator])
            if figure.name == "satisfaction_rate":
                rate["split"] = {level.value: values[level.value] for level in Satisfaction}
            values[figure.name] = rate
    return values


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


Cell = tuple[str | None, ...]


def cell_of(row: ConcernFacts | VisitFacts, group_by: Sequence[str]) -> Cell:
    """The cell (values of the grouping keys) a concern or a visit falls in."""
    return tuple(getattr(row, key) for key in group_by)


def tally(
    concerns: Sequence[ConcernFacts],
    visits: Sequence[VisitFacts],
    group_by: Sequence[str],
    today: date,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ledger's rows (one per cell with anything in it, in key order) and its totals."""
    cells: dict[Cell, tuple[list[ConcernFacts], list[VisitFacts]]] = {}
    for c in concerns:
        cells.setdefault(cell_of(c, group_by), ([], []))[0].append(c)
    for v in visits:
        cells.setdefault(cell_of(v, group_by), ([], []))[1].append(v)
    by_category = "category" in group_by
    rows = []
    for cell in sorted(cells, key=lambda k: tuple("" if x is None else x for x in k)):
        in_cell, visits_in_cell = cells[cell]
        keys = dict(zip(group_by, cell, strict=True))
        subjects: tuple[Subject, ...] = ("concerns", "visits")
        if by_category:
            # Visits have no category: they have rows of their own, category None.
            subjects = ("visits",) if keys["category"] is None else ("concerns",)
        rows.append(
            {**key_fields(keys), "figures": compute(in_cell, visits_in_cell, today, subjects)}
        )
    return rows, {"figures": compute(concerns, visits, today)}


def key_fields(keys: dict[str, str | None]) -> dict[str, Any]:
    """A row's cell keys, with the category's labels."""
    fields: dict[str, Any] = dict(keys)
    if "category" in keys:
        category = keys["category"]
        label = Category(category) if category else None
        fields["category_label"] = (
            {"zh": label.zh, "en": label.en} if label else {"zh": "不分类别", "en": "No category"}
        )
    return fields
