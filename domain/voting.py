"""The voting rules of a branch meeting (article 11 of the branch work regulations) as data."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from domain.errors import Invalid
from domain.vocabulary import Labelled


class Choice(Labelled):
    FOR = ("for", "赞成", "For")
    AGAINST = ("against", "反对", "Against")
    ABSTAIN = ("abstain", "弃权", "Abstain")


class Outcome(Labelled):
    ADOPTED = ("adopted", "通过", "Adopted")
    REJECTED = ("rejected", "否决", "Rejected")
    DEFERRED = ("deferred", "暂缓", "Deferred")


class Ballot(Labelled):
    OPEN = ("open", "公开表决", "Open vote")
    SECRET = ("secret", "无记名投票", "Secret ballot")


@dataclass(frozen=True)
class Quorum:
    """At least `share` of those entitled must be present ("半数以上" includes half)."""

    name: str
    share: Fraction

    def reached(self, present: int, entitled: int) -> bool:
        """True when enough of the entitled are present."""
        return entitled > 0 and Fraction(present) >= self.share * entitled


@dataclass(frozen=True)
class Threshold:
    """Votes needed, counted against the entitled or the present, strictly above or at least."""

    name: str
    share: Fraction
    of: str  # "entitled" or "present"
    strict: bool

    def met(self, votes: int, entitled: int, present: int) -> bool:
        """True when `votes` clear the threshold."""
        base = entitled if self.of == "entitled" else present
        bar = self.share * base
        return Fraction(votes) > bar if self.strict else Fraction(votes) >= bar

    def needed(self, entitled: int, present: int) -> int:
        """The fewest votes that clear the threshold."""
        base = entitled if self.of == "entitled" else present
        return next(v for v in range(base + 2) if self.met(v, entitled, present))


QUORUMS: dict[str, Quorum] = {
    q.name: q
    for q in (
        Quorum("half", Fraction(1, 2)),
        Quorum("two_thirds", Fraction(2, 3)),
        Quorum("all", Fraction(1)),
    )
}
THRESHOLDS: dict[str, Threshold] = {
    t.name: t
    for t in (
        Threshold("majority_of_entitled", Fraction(1, 2), "entitled", strict=True),
        Threshold("majority_of_present", Fraction(1, 2), "present", strict=True),
        Threshold("two_thirds_of_entitled", Fraction(2, 3), "entitled", strict=False),
        Threshold("two_thirds_of_present", Fraction(2, 3), "present", strict=False),
    )
}
# Other spellings clients may send for the same rules.
_QUORUM_ALIASES = {"1/2": "half", "0.5": "half", "2/3": "two_thirds", "majority": "half"}
_THRESHOLD_ALIASES = {
    "majority": "majority_of_entitled",
    "entitled": "majority_of_entitled",
    "present": "majority_of_present",
    "more_than_half_of_entitled": "majority_of_entitled",
    "more_than_half_of_present": "majority_of_present",
    "majority_of_those_present": "majority_of_present",
    "two_thirds": "two_thirds_of_entitled",
}


@dataclass(frozen=True)
class Rules:
    """A meeting's rules: quorum, threshold and ballot; the defaults are article 11's."""

    quorum: str = "half"
    threshold: str = "majority_of_entitled"
    ballot: str = Ballot.OPEN.value

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Rules:
        """Rules from a request body, refusing unknown names with the field that is wrong."""
        data = dict(data or {})
        unknown = sorted(set(data) - {"quorum", "threshold", "ballot"})
        if unknown:
            raise Invalid([(f"rules.{k}", "is not a rule") for k in unknown])
        quorum = str(data.get("quorum") or "half")
        quorum = _QUORUM_ALIASES.get(quorum, quorum)
        threshold = str(data.get("threshold") or "majority_of_entitled")
        threshold = _THRESHOLD_ALIASES.get(threshold, threshold)
        ballot = str(data.get("ballot") or Ballot.OPEN.value)
        problems = []
        if quorum not in QUORUMS:
            problems.append(("rules.quorum", f"must be one of {', '.join(QUORUMS)}"))
        if threshold not in THRESHOLDS:
            problems.append(("rules.threshold", f"must be one of {', '.join(THRESHOLDS)}"))
        if ballot not in {b.value for b in Ballot}:
            problems.append(("rules.ballot", "must be open or secret"))
        if problems:
            raise Invalid(problems)
        return cls(quorum=quorum, threshold=threshold, ballot=ballot)

    def as_dict(self) -> dict[str, str]:
        """Plain data for events and responses."""
        return {"quorum": self.quorum, "threshold": self.threshold, "ballot": self.ballot}

    @property
    def secret(self) -> bool:
        """True for a secret ballot: read paths show counts only."""
        return self.ballot == Ballot.SECRET.value


@dataclass(frozen=True)
class Tally:
    """The count of one agenda item's vote and the outcome the rules give it."""

    votes_for: int
    against: int
    abstain: int
    entitled: int
    present: int
    quorum_reached: bool
    outcome: Outcome
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for events and responses."""
        return {
            "for": self.votes_for,
            "against": self.against,
            "abstain": self.abstain,
            "voted": self.votes_for + self.against + self.abstain,
            "entitled": self.entitled,
            "present": self.present,
            "quorum_reached": self.quorum_reached,
            "outcome": self.outcome.value,
            "reason": self.reason,
        }


def count(choices: list[str], entitled: int, present: int, rules: Rules) -> Tally:
    """Apply the rules to the recorded choices (`present` counts entitled members present)."""
    votes_for = choices.count(Choice.FOR.value)
    against = choices.count(Choice.AGAINST.value)
    abstain = choices.count(Choice.ABSTAIN.value)
    quorum = QUORUMS[rules.quorum]
    threshold = THRESHOLDS[rules.threshold]
    reached = quorum.reached(present, entitled)
    if not reached:
        outcome, reason = Outcome.DEFERRED, f"no quorum: {present} of {entitled} entitled present"
    elif threshold.met(votes_for, entitled, present):
        outcome, reason = Outcome.ADOPTED, f"{votes_for} for ({threshold.name})"
    elif threshold.met(against, entitled, present):
        outcome, reason = Outcome.REJECTED, f"{against} against ({threshold.name})"
    else:
        outcome, reason = Outcome.DEFERRED, f"no majority either way ({threshold.name})"
    return Tally(votes_for, against, abstain, entitled, present, reached, outcome, reason)
