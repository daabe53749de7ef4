"""How a scorecard's composite score and grade are made from its rates (考核记分规则).

The score is the weighted mean of the components present, out of 100: on-time closure and
satisfaction as they are, rework and extension inverted (less scores more). A component
whose rate has no denominator (nothing resolved, no feedback) is left out and the other
weights carry the score; with none present there is no score and no grade. The grade is
the first whose lower bound the score reaches, else the last. Both are configurable
(MINQING_SCORECARD_WEIGHTS, MINQING_SCORECARD_GRADES) as `name=number` lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The components and whether less of the rate scores more.
COMPONENTS: Mapping[str, bool] = {
    "on_time_closure": False,
    "rework": True,
    "extension": True,
    "satisfaction": False,
}
DEFAULT_WEIGHTS = "on_time_closure=50,rework=20,extension=10,satisfaction=20"
DEFAULT_GRADES = "A=90,B=75,C=60,D=40"
LOWEST_GRADE = "E"


def _pairs(text: str, what: str) -> list[tuple[str, float]]:
    pairs = []
    for part in (p.strip() for p in text.split(",")):
        name, sep, number = part.partition("=")
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not sep or not name.strip() or value < 0:
            raise ValueError(f"{what}: {part!r} is not name=number (a number ≥ 0)")
        pairs.append((name.strip(), value))
    return pairs


@dataclass(frozen=True)
class ScoreRules:
    """The weights per component and the grades' lower bounds, highest grade first."""

    weights: Mapping[str, float]
    grades: tuple[tuple[str, float], ...]

    @classmethod
    def parse(cls, weights: str = DEFAULT_WEIGHTS, grades: str = DEFAULT_GRADES) -> ScoreRules:
        """The rules from their settings' text; ValueError naming what is wrong."""
        found = dict(_pairs(weights, "weights"))
        unknown = set(found) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"weights: unknown components {sorted(unknown)}")
        if not sum(found.values()):
            raise ValueError("weights: at least one must be above 0")
        bounds = tuple(sorted(_pairs(grades, "grades"), key=lambda g: -g[1]))
        return cls({c: found.get(c, 0.0) for c in COMPONENTS}, bounds)

    def score(self, rates: Mapping[str, float | None]) -> float | None:
        """The composite score (0–100, one decimal) of the rates present, or None."""
        total = weight = 0.0
        for name, inverted in COMPONENTS.items():
            rate = rates.get(name)
            if rate is None or not self.weights[name]:
                continue
            total += self.weights[name] * ((1 - rate) if inverted else rate)
            weight += self.weights[name]
        return round(100 * total / weight, 1) if weight else None

    def grade(self, score: float | None) -> str | None:
        """The grade the score reaches (None without a score)."""
        if score is None:
            return None
        return next((name for name, bound in self.grades if score >= bound), LOWEST_GRADE)

    def as_dict(self) -> dict[str, object]:
        """The rules as the API shows them."""
        return {
            "weights": dict(self.weights),
            "grades": [{"grade": n, "from": b} for n, b in self.grades]
            + [{"grade": LOWEST_GRADE, "from": 0}],
        }
