"""The text policy's pure functions (domain/text.py): which characters each kind of field
refuses, the words of the refusal, and the one form accepted text is kept in."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.text import TextRefused, check_multi_line, check_single_line, problem

CONTROLS = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if chr(c) not in "\t\n\r"]
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_but_tab_and_line_breaks_are_refused_in_every_field(
    char: str,
) -> None:
    expected = f"contains a control character (U+{ord(char):04X}), which is not allowed"
    for check in (check_single_line, check_multi_line):
        with pytest.raises(TextRefused) as refused:
            check(f"路灯{char}坏了")
        assert str(refused.value) == expected


@pytest.mark.parametrize("char", ["\n", "\r", "\u2028", "\u2029"])
def test_line_breaks_are_refused_in_one_line_fields_only(char: str) -> None:
    assert problem(f"a{char}b") == (
        f"contains a line break (U+{ord(char):04X}), which is not allowed in a single-line field"
    )
    assert problem(f"a{char}b", multi_line=True) is None


@pytest.mark.parametrize("char", BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_bidirectional_controls_are_refused_in_one_line_fields_only(char: str) -> None:
    assert problem(f"138{char}0000") == (
        f"contains a bidirectional override or isolate (U+{ord(char):04X}), which is not"
        " allowed in a single-line field"
    )
    assert check_multi_line(f"שלום{char}") == f"שלום{char}"


def test_an_unpaired_surrogate_is_refused() -> None:
    assert problem("a\ud800", multi_line=True) == (
        "contains an unpaired surrogate (U+D800), which is not a character"
    )


def test_tab_is_kept_text_is_nfc_and_line_breaks_are_lf() -> None:
    assert check_single_line("路灯\t坏了 Cafe\u0301") == "路灯\t坏了 Caf\u00e9"
    assert check_multi_line("一\r\n二\r三\n四") == "一\n二\n三\n四"
    assert problem("") is None


@given(st.text())
def test_accepted_text_holds_nothing_refused_and_is_kept_as_is_the_second_time(
    text: str,
) -> None:
    for check in (check_single_line, check_multi_line):
        try:
            kept = check(text)
        except TextRefused:
            continue
        assert unicodedata.is_normalized("NFC", kept)
        assert check(kept) == kept
        assert not any(c in kept for c in CONTROLS)
        assert "\x00" not in kept
