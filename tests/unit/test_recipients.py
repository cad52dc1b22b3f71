"""Who gets an object's e-mail: the address policy beside MailConfig (aws/mail.py), pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txsummary.aws.mail import choose_recipients, single_address


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, ("ops@example.com",)),
        ({"email": "holder@bank.example"}, ("holder@bank.example",)),
        ({"email": "Holder@BANK.example"}, ("Holder@BANK.example",)),
        ({"email": "holder@evil.example"}, ("ops@example.com",)),
        ({"email": "holder@sub.bank.example"}, ("ops@example.com",)),
        ({"email": "a@bank.example, b@evil.example"}, ("ops@example.com",)),
        ({"email": "Evil <x@evil.example>"}, ("ops@example.com",)),
        ({"email": "x@evil.example\r\nBcc: y@bank.example"}, ("ops@example.com",)),
        ({"email": "x@evil.example@bank.example"}, ("ops@example.com",)),
    ],
)
def test_metadata_picks_the_recipient_only_in_an_allowed_domain(
    metadata: dict[str, str], expected: tuple[str, ...]
) -> None:
    assert choose_recipients(("ops@example.com",), metadata, {"bank.example"}) == expected


@given(st.text(max_size=60))
def test_a_metadata_address_is_used_only_when_it_is_one_plain_allowed_address(text: str) -> None:
    # Given any metadata text; oracle: a chosen address has no space or separator, one "@",
    # and its domain is the allowed one
    chosen = choose_recipients(("ops@example.com",), {"email": text}, {"bank.example"})
    if chosen != ("ops@example.com",):
        (address,) = chosen
        assert address == text.strip()
        assert address.count("@") == 1
        assert address.lower().endswith("@bank.example")
        assert not any(ch.isspace() or ch in ",;<>" for ch in address)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a@b.example", "a@b.example"),
        ("  a@b.example ", "a@b.example"),
        ("a@b", None),
        ("A <a@b.example>", None),
        ("a@b.example,c@d.example", None),
        ("", None),
    ],
)
def test_single_address_accepts_exactly_one_bare_address(text: str, expected: str | None) -> None:
    # Given a setting's text, Then only one bare local@domain.tld is an address
    assert single_address(text) == expected
