"""The pydantic schema of the pattern files: every shipped file passes, and each problem gets
one message naming the file, the rule and what the key must be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migralex.corpus.errors import ValidationError
from migralex.nlp.pattern_schema import validate_pattern_file

PATTERNS = Path(__file__).resolve().parents[2] / "nlp" / "patterns"
RULE = {"id": "en.gender.a", "phrases": ["women"]}


@pytest.mark.parametrize("path", sorted(PATTERNS.glob("*/*.json")), ids=lambda p: p.name)
def test_every_shipped_pattern_file_passes(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    got = validate_pattern_file(data, path.name, path.parent.name, path.stem)
    assert got.tag == path.stem and len(got.rules) == len(data["rules"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "en/gender.json: a pattern file must hold a JSON object"),
        ({"tag": "gendr", "language": "en", "rules": [RULE]}, "unknown tag 'gendr'; valid tags:"),
        ({"tag": "gender", "language": "fr", "rules": [RULE]}, "language 'fr' != folder 'en'"),
        ({"tag": "gender", "language": "en", "rules": []}, "'rules' must be a non-empty list"),
        ({"tag": "gender", "language": "en", "rules": [RULE], "x": 1}, r"unknown keys \['x'\]"),
        ({"tag": "gender", "language": "en", "rules": [3]}, r"rule 0 \(\?\): a rule must be"),
        (
            {"tag": "gender", "language": "en", "rules": [{**RULE, "max_tokens": True}]},
            r"rule 0 \(en.gender.a\): 'max_tokens' must be a positive integer",
        ),
        (
            {"tag": "gender", "language": "en", "rules": [{**RULE, "scope": "all"}]},
            "'scope' must be one of",
        ),
        (
            {
                "tag": "gender",
                "language": "en",
                "rules": [{**RULE, "phrases": []}],
            },
            "'phrases' must be a non-empty list",
        ),
        (
            {
                "tag": "gender",
                "language": "en",
                "rules": [{"id": "en.gender.a", "patterns": [[{}]], "attr": "LOWER"}],
            },
            "'attr' is for phrases",
        ),
    ],
)
def test_problems_are_named(data: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_pattern_file(data, "en/gender.json", "en", "gender")


def test_lookup_lemmas_is_a_registered_spacy_component() -> None:
    from migralex.nlp.spacy_components import LOOKUP_LEMMAS, spacy

    nlp = spacy.blank("en")
    nlp.add_pipe(LOOKUP_LEMMAS)
    doc = nlp("Benefits were PAID")
    assert nlp.pipe_names == [LOOKUP_LEMMAS]
    assert [t.lemma_ for t in doc] == ["benefit", "be", "pay"]
    blank = spacy.blank("xx")  # no lookup table: the lower-cased text
    blank.add_pipe(LOOKUP_LEMMAS)
    assert [t.lemma_ for t in blank("Benefits ABC")] == ["benefits", "abc"]
