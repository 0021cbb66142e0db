"""The NANP memo in compliance.numbers answers exactly what a full phonenumbers parse answers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance import numbers
from compliance.numbers import (
    PhoneNumberError,
    letters_reason,
    normalize_phone,
    number_time_zones,
    phone_letters,
)

FORMATS = (
    "({a}) {b}-{c}",
    "{a}-{b}-{c}",
    "+1 {a} {b} {c}",
    "1{a}{b}{c}",
    "{a}.{b}.{c}",
    "+1{a}{b}{c}",
    "1 ({a}) {b}-{c}",
)


def full_parse(text: str) -> tuple[str, str | None] | None:
    number = phonenumbers.parse(text, "US")
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164
    ), phonenumbers.region_code_for_number(number)


def full_zones(e164: str) -> tuple[str, ...] | None:
    number = numbers._valid(e164)
    return None if number is None else numbers._zones_of(number)


@settings(max_examples=3000, deadline=None)
@given(
    area=st.integers(200, 999),
    exchange=st.integers(0, 999),
    line=st.integers(0, 9999),
    layout=st.sampled_from(FORMATS),
)
def test_memo_matches_the_full_parse(area, exchange, line, layout):
    text = layout.format(a=area, b=f"{exchange:03d}", c=f"{line:04d}")
    expected = full_parse(text)
    try:
        got = normalize_phone(text)
    except PhoneNumberError:
        assert expected is None
        return
    assert (got.e164, got.region) == expected
    assert number_time_zones(got.e164) == full_zones(got.e164)


def test_memo_key_is_proved_from_the_metadata():
    free, narrower = numbers._nanp_key_rules()
    assert free >= 3 and all(region_free >= 1 for _, region_free in narrower)
    assert numbers._nanp_key("3125550101") == "312555"  # US: the first 6 digits decide
    assert numbers._nanp_key("2465550101") == "2465550"  # Barbados patterns reach one digit further


@pytest.mark.parametrize(
    ("raw", "letters"),
    [
        ("+1 312 555 ABCD", "ABCD"),
        ("312-555-01O1", "O"),
        ("(612) 555-0112 x204", ""),
        ("612-555-0113 ext. 7", ""),
        ("tel:+1-312-555-0101", ""),
    ],
)
def test_phone_letters(raw, letters):
    assert phone_letters(raw) == letters


def test_letters_reason_names_lookalikes():
    assert "letter 'O' where a digit is expected" in letters_reason("O")
    assert "vanity number" in letters_reason("FLOWERS")
