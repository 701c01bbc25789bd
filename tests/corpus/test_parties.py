"""Party keys: one key per country, whole names only."""

from __future__ import annotations

import pytest

from migralex.corpus.parties import party_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Latvia", "Republic of Latvia"),
        ("Italy", "Italian Republic"),
        ("Switzerland", "Swiss Confederation"),
        ("Mexico", "United Mexican States"),
        ("Canada", "Government of Canada"),
        ("Netherlands", "the Netherlands"),
        ("Korea, Republic of", "Republic of Korea"),
        ("ie", "Ireland"),
        ("Quebec", " quebec "),
    ],
)
def test_spellings_of_one_party_share_a_key(a: str, b: str) -> None:
    assert party_key(a) == party_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ireland", "United Kingdom of Great Britain and Northern Ireland"),
        ("Ireland", "Northern Ireland"),
        ("Guinea", "Equatorial Guinea"),
        ("Niger", "Nigeria"),
        ("Quebec", "Canada"),
    ],
)
def test_different_parties_have_different_keys(a: str, b: str) -> None:
    assert party_key(a) != party_key(b)


def test_countries_get_their_iso_code() -> None:
    assert party_key("Republic of Latvia") == "LV"
    assert party_key("Yugoslavia") == "yugoslavia"
