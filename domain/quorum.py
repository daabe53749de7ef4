"""Whether a meeting may vote now: article 11 for a branch meeting, article 12 for a
committee session, judged when each vote opens and recorded with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import Conflict
from domain.voting import QUORUMS, Rules

# 支部工作条例 article 11: 表决必须有半数以上有表决权的党员到会方可进行; article 12: 支部委员会
# 会议须有半数以上委员到会方可召开. A committee session's entitled members are its committee.
ARTICLES = {"thematic_party_day": 11, "committee_session": 12}


@dataclass(frozen=True)
class QuorumCheck:
    """The quorum as judged once: the rule, the article it comes from and the counts."""

    rule: str
    article: int
    entitled: int
    present: int
    needed: int

    @property
    def reached(self) -> bool:
        """True when enough of the entitled are present."""
        return self.entitled > 0 and self.present >= self.needed

    def refusal(self, message: str, rule: str) -> Conflict:
        """A refusal on this quorum: its counts go in the answer."""
        counts = {"present": self.present, "entitled": self.entitled, "needed": self.needed}
        return Conflict(message, rule, **counts)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for events and responses."""
        return {
            "rule": self.rule,
            "article": self.article,
            "entitled": self.entitled,
            "present": self.present,
            "needed": self.needed,
            "reached": self.reached,
        }


def judge(kind: str, rules: Rules, entitled: int, present: int) -> QuorumCheck:
    """The quorum for `present` of `entitled` under the meeting's rule (stricter local rules
    allowed; never below the article's half)."""
    quorum = QUORUMS[rules.quorum]
    return QuorumCheck(
        rule=quorum.name,
        article=ARTICLES.get(kind, 11),
        entitled=entitled,
        present=present,
        needed=quorum.needed(entitled),
    )
