"""The words two concerns are compared by: the same matter in another order, with Chinese
or full-width digits, is the same words; a different matter is not alike."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.concern_places import MIN_SCORE
from projections.text_match import score, title_and_all_words, words

PHRASES = ["5号楼", "东侧小路", "路灯", "不亮", "两周", "晚上", "老人", "出门"]


def alike(a: str, b: str) -> float:
    return score(words(a), words(a), words(b), words(b))


@settings(max_examples=50, deadline=None)
@given(st.permutations(PHRASES))
def test_word_order_does_not_matter(order: list[str]) -> None:
    assert alike("".join(PHRASES), "".join(order)) == 1.0


def test_chinese_and_full_width_digits_are_the_same_words() -> None:
    assert words("五号楼路灯不亮") == words("5号楼路灯不亮") == words("５号楼路灯不亮")


def test_simplified_wording_is_alike_and_another_matter_is_not() -> None:
    assert alike("5号楼东侧小路路灯两周不亮", "五号楼东边小路的路灯坏了") >= MIN_SCORE
    assert alike("5号楼东侧小路路灯两周不亮", "3号楼楼道堆放杂物") < MIN_SCORE
    assert alike("小区门口垃圾没人清理", "5号楼东侧小路路灯两周不亮") < MIN_SCORE


# Chinese of the concerns, digits in both widths, letters, particles, punctuation, spaces.
_MIXED = st.text(
    alphabet=st.sampled_from(
        list("路灯坏了两周五号楼东侧小路不亮老人的是和吗，。！ aZ05０５〇一两\t\u3000")
    ),
    max_size=30,
)


@settings(deadline=None)
@given(title=_MIXED, description=_MIXED)
def test_the_title_cut_once_gives_the_words_of_each_part_and_of_the_whole(
    title: str, description: str
) -> None:
    # The concern places read model stores both; cutting the title once must not change them.
    assert title_and_all_words(title, description) == (
        words(title),
        words(f"{title} {description}"),
    )
