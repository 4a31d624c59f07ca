"""The one rule for text in spreadsheets and XML: controls stripped, formulas neutralised and
restored exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geoapp.domain.text_safety import (
    FORMULA_STARTS,
    neutralise,
    restore,
    safe_cell,
    strip_control,
)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # already quoted: one more quote, so that restore gives it back
        ("-", "'-"),
        ("+84 235 3812 345", "'+84 235 3812 345"),
    ],
)
def test_formula_like_text_gets_one_leading_quote_and_comes_back(text, written):
    assert neutralise(text) == written
    assert restore(written) == text


@pytest.mark.parametrize(
    "text", ["-12", "-12.5", "+84", "-.5", "1e-3", "-2E+5", "Mật ong", "", "a=b", "'quoted", "'"]
)
def test_numbers_and_ordinary_text_are_left_alone(text):
    assert neutralise(text) == text
    assert restore(text) == text


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("=+-@\t\r'a1.eE -$"), max_size=8) | st.text(max_size=20))
def test_restore_undoes_neutralise_for_every_text(text):
    assert restore(neutralise(text)) == text
    written = neutralise(text)
    if written.startswith(FORMULA_STARTS):  # only a plain number may start so
        float(written)


def test_control_characters_are_stripped_but_not_tabs_newlines_or_vietnamese():
    text = "Xã\x00 Một\x07\x1b\x0b\x0c\ufffe\uffff\ud800\tdòng\nhai\r"
    assert strip_control(text) == "Xã Một\tdòng\nhai\r"


def test_safe_cell_keeps_numbers_as_numbers():
    assert safe_cell(-5) == -5 and safe_cell(-2.5) == -2.5 and safe_cell(None) is None
    assert safe_cell("\x00=1") == "'=1"
