"""The voting rules alone: article 11's quorum and majority, the other options, their edges.

Article 11 of the branch work regulations: the vote may proceed only when at least half of
the members entitled to vote are present ("半数以上" includes half), and an item is adopted
when those voting for are more than half of those entitled (not of those present).
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import Invalid
from domain.voting import QUORUMS, THRESHOLDS, Choice, Outcome, Rules, Tally, count

FOR, AGAINST, ABSTAIN = Choice.FOR.value, Choice.AGAINST.value, Choice.ABSTAIN.value
DEFAULT = Rules()


def votes(for_: int = 0, against: int = 0, abstain: int = 0) -> list[str]:
    return [FOR] * for_ + [AGAINST] * against + [ABSTAIN] * abstain


def outcome(
    for_: int,
    against: int,
    abstain: int,
    *,
    entitled: int,
    present: int,
    rules: Rules = DEFAULT,
) -> Tally:
    assert for_ + against + abstain <= present <= entitled
    return count(votes(for_, against, abstain), entitled, present, rules)


# -- the worked story and article 11 ----------------------------------------------------------


def test_the_worked_story_is_adopted_ten_for_of_fifteen_entitled() -> None:
    tally = outcome(10, 0, 1, entitled=15, present=11)

    assert tally.outcome == Outcome.ADOPTED
    assert (tally.votes_for, tally.against, tally.abstain) == (10, 0, 1)
    assert (tally.entitled, tally.present) == (15, 11)
    assert tally.quorum_reached
    assert "10 for" in tally.reason
    assert tally.as_dict() == {
        "for": 10,
        "against": 0,
        "abstain": 1,
        "voted": 11,
        "entitled": 15,
        "present": 11,
        "quorum_reached": True,
        "outcome": "adopted",
        "reason": tally.reason,
    }


def test_the_default_rules_are_article_elevens() -> None:
    assert DEFAULT == Rules.parse(None) == Rules.parse({})
    assert DEFAULT.as_dict() == {
        "quorum": "half",
        "threshold": "majority_of_entitled",
        "ballot": "open",
    }
    assert not DEFAULT.secret


@pytest.mark.parametrize(("entitled", "present"), [(15, 7), (16, 7), (4, 1), (2, 0), (1, 0)])
def test_one_below_half_present_is_no_quorum_and_the_item_is_deferred(
    entitled: int, present: int
) -> None:
    # Everybody present votes for: still no vote, the item goes back to the committee.
    tally = outcome(present, 0, 0, entitled=entitled, present=present)

    assert not tally.quorum_reached
    assert tally.outcome == Outcome.DEFERRED
    assert tally.reason.startswith("no quorum")
    assert f"{present} of {entitled}" in tally.reason


@pytest.mark.parametrize(("entitled", "present"), [(16, 8), (4, 2), (2, 1), (15, 8)])
def test_exactly_half_present_or_the_first_count_above_it_reaches_the_quorum(
    entitled: int, present: int
) -> None:
    tally = outcome(0, 0, present, entitled=entitled, present=present)
    assert tally.quorum_reached
    assert not tally.reason.startswith("no quorum")


def test_quorum_at_exactly_half_lets_a_majority_of_those_present_adopt() -> None:
    rules = Rules(threshold="majority_of_present")
    tally = outcome(5, 3, 0, entitled=16, present=8, rules=rules)
    assert tally.quorum_reached
    assert tally.outcome == Outcome.ADOPTED


@pytest.mark.parametrize(("entitled", "present"), [(16, 16), (16, 12), (16, 8)])
def test_for_exactly_half_of_those_entitled_is_not_adopted(entitled: int, present: int) -> None:
    tally = outcome(8, 0, 0, entitled=entitled, present=present)
    assert tally.quorum_reached
    assert tally.outcome == Outcome.DEFERRED
    assert "no majority" in tally.reason


def test_one_more_than_half_of_those_entitled_is_adopted() -> None:
    assert outcome(9, 0, 0, entitled=16, present=9).outcome == Outcome.ADOPTED
    assert outcome(8, 0, 0, entitled=15, present=8).outcome == Outcome.ADOPTED
    assert outcome(7, 0, 0, entitled=15, present=8).outcome == Outcome.DEFERRED


def test_a_majority_of_those_present_but_not_of_those_entitled_is_not_adopted() -> None:
    # 7 of 8 present is far more than half of those present, but 7 is not more than 15/2.
    tally = outcome(7, 1, 0, entitled=15, present=8)
    assert tally.outcome == Outcome.DEFERRED


@pytest.mark.parametrize(("for_", "against", "abstain"), [(6, 6, 0), (5, 5, 2), (0, 0, 12)])
def test_a_tie_or_no_majority_either_way_is_deferred(for_: int, against: int, abstain: int) -> None:
    tally = outcome(for_, against, abstain, entitled=15, present=12)
    assert tally.quorum_reached
    assert tally.outcome == Outcome.DEFERRED
    assert "no majority either way" in tally.reason


def test_a_tie_at_half_of_those_entitled_each_way_is_deferred() -> None:
    assert outcome(8, 8, 0, entitled=16, present=16).outcome == Outcome.DEFERRED


def test_against_more_than_half_of_those_entitled_is_rejected() -> None:
    tally = outcome(2, 8, 1, entitled=15, present=11)
    assert tally.outcome == Outcome.REJECTED
    assert "8 against" in tally.reason


def test_against_exactly_half_of_those_entitled_is_not_rejected() -> None:
    assert outcome(0, 8, 0, entitled=16, present=10).outcome == Outcome.DEFERRED
    assert outcome(0, 9, 0, entitled=16, present=10).outcome == Outcome.REJECTED


def test_no_votes_at_all_with_a_quorum_is_deferred() -> None:
    assert outcome(0, 0, 0, entitled=15, present=15).outcome == Outcome.DEFERRED


# -- each threshold ---------------------------------------------------------------------------

# (threshold, entitled, present, the fewest votes that clear it, and one fewer does not)
THRESHOLD_EDGES = [
    # more than half of those entitled
    ("majority_of_entitled", 15, 15, 8),
    ("majority_of_entitled", 16, 16, 9),
    ("majority_of_entitled", 16, 8, None),  # 8 present can never be more than 16/2
    # more than half of those present
    ("majority_of_present", 15, 11, 6),
    ("majority_of_present", 15, 10, 6),  # 5 of 10 is half, not more
    ("majority_of_present", 16, 8, 5),
    # at least two thirds of those entitled
    ("two_thirds_of_entitled", 15, 15, 10),  # 10 is exactly 2/3 of 15
    ("two_thirds_of_entitled", 16, 16, 11),  # 2/3 of 16 is 10.67
    ("two_thirds_of_entitled", 15, 9, None),
    # at least two thirds of those present
    ("two_thirds_of_present", 15, 12, 8),  # 8 is exactly 2/3 of 12
    ("two_thirds_of_present", 15, 11, 8),  # 2/3 of 11 is 7.33
    ("two_thirds_of_present", 15, 9, 6),
]


@pytest.mark.parametrize(
    ("threshold", "entitled", "present", "needed"),
    THRESHOLD_EDGES,
    ids=[f"{t}-{e}-entitled-{p}-present" for t, e, p, _ in THRESHOLD_EDGES],
)
def test_each_threshold_adopts_at_its_edge_and_not_one_vote_below(
    threshold: str, entitled: int, present: int, needed: int | None
) -> None:
    rules = Rules(threshold=threshold)
    if needed is None:
        tally = outcome(present, 0, 0, entitled=entitled, present=present, rules=rules)
        assert tally.quorum_reached
        assert tally.outcome == Outcome.DEFERRED
        return
    at_edge = outcome(needed, 0, present - needed, entitled=entitled, present=present, rules=rules)
    below = outcome(
        needed - 1, 0, present - needed + 1, entitled=entitled, present=present, rules=rules
    )
    assert at_edge.outcome == Outcome.ADOPTED
    assert threshold in at_edge.reason
    assert below.outcome == Outcome.DEFERRED


@pytest.mark.parametrize(
    ("threshold", "entitled", "present", "needed"),
    [e for e in THRESHOLD_EDGES if e[3] is not None],
    ids=[f"{t}-{e}-entitled-{p}-present" for t, e, p, n in THRESHOLD_EDGES if n is not None],
)
def test_each_threshold_rejects_by_the_same_measure_against(
    threshold: str, entitled: int, present: int, needed: int
) -> None:
    rules = Rules(threshold=threshold)
    at_edge = outcome(0, needed, present - needed, entitled=entitled, present=present, rules=rules)
    below = outcome(
        0, needed - 1, present - needed + 1, entitled=entitled, present=present, rules=rules
    )
    assert at_edge.outcome == Outcome.REJECTED
    assert below.outcome == Outcome.DEFERRED


def test_the_thresholds_are_the_four_documented_options() -> None:
    assert set(THRESHOLDS) == {
        "majority_of_entitled",
        "majority_of_present",
        "two_thirds_of_entitled",
        "two_thirds_of_present",
    }
    assert THRESHOLDS["majority_of_entitled"].strict
    assert THRESHOLDS["majority_of_present"].strict
    assert not THRESHOLDS["two_thirds_of_entitled"].strict
    assert not THRESHOLDS["two_thirds_of_present"].strict


# -- each quorum --------------------------------------------------------------------------------

# (quorum, entitled, the fewest present that reach it)
QUORUM_EDGES = [
    ("half", 15, 8),
    ("half", 16, 8),
    ("half", 1, 1),
    ("two_thirds", 15, 10),  # exactly 2/3
    ("two_thirds", 16, 11),  # 2/3 of 16 is 10.67
    ("two_thirds", 3, 2),
    ("all", 15, 15),
    ("all", 1, 1),
]


@pytest.mark.parametrize(
    ("quorum", "entitled", "needed"),
    QUORUM_EDGES,
    ids=[f"{q}-{e}-entitled" for q, e, _ in QUORUM_EDGES],
)
def test_each_quorum_is_reached_at_its_edge_and_not_one_below(
    quorum: str, entitled: int, needed: int
) -> None:
    # Everyone present votes for, with a threshold they clear: only the quorum decides.
    rules = Rules(quorum=quorum, threshold="majority_of_present")
    reached = outcome(needed, 0, 0, entitled=entitled, present=needed, rules=rules)
    below = outcome(needed - 1, 0, 0, entitled=entitled, present=needed - 1, rules=rules)

    assert reached.quorum_reached
    assert reached.outcome == Outcome.ADOPTED
    assert not below.quorum_reached
    assert below.outcome == Outcome.DEFERRED
    assert below.reason.startswith("no quorum")


def test_the_quorums_are_the_three_documented_options() -> None:
    assert {n: q.share for n, q in QUORUMS.items()} == {
        "half": Fraction(1, 2),
        "two_thirds": Fraction(2, 3),
        "all": Fraction(1),
    }


def test_a_meeting_with_nobody_entitled_has_no_quorum() -> None:
    assert not QUORUMS["half"].reached(0, 0)


def test_a_stricter_quorum_defers_what_article_eleven_would_adopt() -> None:
    strict = Rules(quorum="two_thirds")
    assert outcome(9, 0, 0, entitled=15, present=9).outcome == Outcome.ADOPTED
    assert outcome(9, 0, 0, entitled=15, present=9, rules=strict).outcome == Outcome.DEFERRED


# -- parsing the rules ----------------------------------------------------------------------


def _fields(raised: pytest.ExceptionInfo[Invalid]) -> list[str]:
    return [name for name, _ in raised.value.fields]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quorum": "most"}, "rules.quorum"),
        ({"quorum": "0.4"}, "rules.quorum"),
        ({"threshold": "unanimous"}, "rules.threshold"),
        ({"threshold": "majority_of_all"}, "rules.threshold"),
        ({"ballot": "by_post"}, "rules.ballot"),
        ({"quorm": "half"}, "rules.quorm"),
    ],
)
def test_parse_refuses_an_unknown_name_naming_the_field(data: dict[str, str], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        Rules.parse(data)
    assert _fields(raised) == [field]


def test_parse_names_every_wrong_field_at_once() -> None:
    with pytest.raises(Invalid) as raised:
        Rules.parse({"quorum": "x", "threshold": "y", "ballot": "z"})
    assert _fields(raised) == ["rules.quorum", "rules.threshold", "rules.ballot"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"quorum": "two_thirds"}, Rules(quorum="two_thirds")),
        ({"quorum": "2/3"}, Rules(quorum="two_thirds")),
        (
            {"quorum": "all", "threshold": "two_thirds_of_present"},
            Rules("all", "two_thirds_of_present"),
        ),
        ({"threshold": "majority_of_present"}, Rules(threshold="majority_of_present")),
        ({"threshold": "two_thirds"}, Rules(threshold="two_thirds_of_entitled")),
        ({"ballot": "secret"}, Rules(ballot="secret")),
        ({"quorum": None, "threshold": None, "ballot": None}, Rules()),
    ],
)
def test_parse_accepts_the_documented_names(data: dict[str, str], expected: Rules) -> None:
    assert Rules.parse(data) == expected


def test_a_secret_ballot_is_a_rule_of_its_own() -> None:
    rules = Rules.parse({"ballot": "secret"})
    assert rules.secret
    assert Rules(**rules.as_dict()) == rules


# -- properties ---------------------------------------------------------------------------------


@st.composite
def meetings(draw: st.DrawFn) -> tuple[list[str], int, int]:
    """Choices cast by some of those present, with present <= entitled."""
    entitled = draw(st.integers(min_value=1, max_value=60))
    present = draw(st.integers(min_value=0, max_value=entitled))
    choices = draw(st.lists(st.sampled_from([FOR, AGAINST, ABSTAIN]), max_size=present))
    return choices, entitled, present


all_rules = st.builds(
    Rules,
    quorum=st.sampled_from(sorted(QUORUMS)),
    threshold=st.sampled_from(sorted(THRESHOLDS)),
    ballot=st.sampled_from(["open", "secret"]),
)


@settings(max_examples=300, deadline=None)
@given(meetings())
def test_under_article_eleven_adopted_exactly_when_quorate_and_for_is_more_than_half(
    meeting: tuple[list[str], int, int],
) -> None:
    choices, entitled, present = meeting
    tally = count(choices, entitled, present, DEFAULT)
    for_ = choices.count(FOR)
    against = choices.count(AGAINST)

    if for_ * 2 <= entitled:
        assert tally.outcome != Outcome.ADOPTED
    quorate = present * 2 >= entitled
    assert tally.quorum_reached == quorate
    assert (tally.outcome == Outcome.ADOPTED) == (quorate and for_ * 2 > entitled)
    assert (tally.outcome == Outcome.REJECTED) == (quorate and against * 2 > entitled)


@settings(max_examples=300, deadline=None)
@given(meetings(), all_rules, st.randoms(use_true_random=False))
def test_any_rules_give_one_outcome_from_the_counts_alone(
    meeting: tuple[list[str], int, int], rules: Rules, rng: random.Random
) -> None:
    choices, entitled, present = meeting
    tally = count(choices, entitled, present, rules)
    threshold = THRESHOLDS[rules.threshold]

    # The counts are the choices; their order does not matter.
    assert (tally.votes_for, tally.against, tally.abstain) == (
        choices.count(FOR),
        choices.count(AGAINST),
        choices.count(ABSTAIN),
    )
    shuffled = list(choices)
    rng.shuffle(shuffled)
    assert count(shuffled, entitled, present, rules) == tally

    # With a quorum, for and against never both clear the threshold: adopted and rejected
    # can never both hold.
    clears_for = threshold.met(tally.votes_for, entitled, present)
    clears_against = threshold.met(tally.against, entitled, present)
    if tally.quorum_reached:
        assert not (clears_for and clears_against)
        assert (tally.outcome == Outcome.ADOPTED) == clears_for
        assert (tally.outcome == Outcome.REJECTED) == clears_against
    else:
        assert tally.outcome == Outcome.DEFERRED
    assert tally.outcome in set(Outcome)


@settings(max_examples=200, deadline=None)
@given(meetings(), all_rules)
def test_one_more_vote_for_never_undoes_an_adoption(
    meeting: tuple[list[str], int, int], rules: Rules
) -> None:
    choices, entitled, present = meeting
    if len(choices) >= present:
        choices = choices[:-1] if choices else choices
    if len(choices) >= present:
        return
    before = count(choices, entitled, present, rules)
    after = count([*choices, FOR], entitled, present, rules)
    if before.outcome == Outcome.ADOPTED:
        assert after.outcome == Outcome.ADOPTED
    if after.outcome == Outcome.REJECTED:
        assert before.outcome == Outcome.REJECTED


# -- the numbers the room is told: present needed, votes needed --------------------------------


@settings(max_examples=200)
@given(
    st.sampled_from(sorted(QUORUMS)),
    st.integers(min_value=1, max_value=200),
    st.data(),
)
def test_the_present_needed_is_the_fewest_that_reach_the_quorum(
    name: str, entitled: int, data: st.DataObject
) -> None:
    quorum = QUORUMS[name]
    needed = quorum.needed(entitled)
    present = data.draw(st.integers(min_value=0, max_value=entitled))
    assert quorum.reached(present, entitled) == (present >= needed)
    assert quorum.reached(needed, entitled)
    assert not quorum.reached(needed - 1, entitled)


@settings(max_examples=200)
@given(
    st.sampled_from(sorted(THRESHOLDS)),
    st.integers(min_value=1, max_value=200),
    st.data(),
)
def test_the_votes_needed_are_the_fewest_that_clear_the_threshold(
    name: str, entitled: int, data: st.DataObject
) -> None:
    threshold = THRESHOLDS[name]
    present = data.draw(st.integers(min_value=1, max_value=entitled))
    needed = threshold.needed(entitled, present)
    assert threshold.met(needed, entitled, present)
    assert needed == 0 or not threshold.met(needed - 1, entitled, present)


def test_half_of_fifteen_is_eight_present_and_a_majority_eight_votes() -> None:
    assert QUORUMS["half"].needed(15) == 8
    assert THRESHOLDS["majority_of_entitled"].needed(15, 11) == 8
    assert THRESHOLDS["majority_of_entitled"].needed(4, 3) == 3
    assert THRESHOLDS["two_thirds_of_present"].needed(15, 9) == 6
