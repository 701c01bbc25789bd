"""Paragraphs of a clause: numbered, run together inline, or sentence groups."""

from __future__ import annotations

import pytest

from migralex.nlp.paragraphs import GROUP_CHARS, split_paragraphs


def _texts(text: str, start: int = 0) -> list[tuple[str, str]]:
    return [(p.label, text[p.start : p.end]) for p in split_paragraphs(text, start)]


@pytest.mark.parametrize(
    ("body", "labels"),
    [
        ("1. Workers are equal.\n2. They may appeal.\n3. Consuls may help.", ["1", "2", "3"]),
        ("(1) Workers are equal.\n(2) They may appeal.", ["1", "2"]),
        ("1) Les travailleurs sont égaux.\n2) Ils ont un recours.", ["1", "2"]),
        ("Paragraphe 1er. Les travailleurs.\nParagraphe 2. Les recours.", ["1", "2"]),
        ("Lid 1 De werknemers.\nLid 2 Het beroep.", ["1", "2"]),
        # run together on one line, as some database texts are
        ("1. Les travailleurs sont engagés. 2. Le contrat est écrit. 3. Il est traduit.",
         ["1", "2", "3"]),
    ],
)  # fmt: skip
def test_numbered_paragraphs_are_found_in_sequence(body: str, labels: list[str]) -> None:
    text = f"Article 4\n{body}"
    parts = split_paragraphs(text, len("Article 4\n"))
    assert [p.label for p in parts] == labels
    # they cover the body without overlap, in order
    assert parts[0].start == len("Article 4\n")
    assert all(a.end <= b.start for a, b in zip(parts, parts[1:], strict=False))
    assert parts[-1].end == len(text)


def test_numbers_out_of_sequence_and_lettered_points_do_not_split() -> None:
    text = "Article 6\nThe worker shows:\na) a passport; b) a certificate under Article 5. 3. x"
    assert [p.label for p in split_paragraphs(text, 10)] == [""]
    # a number inside a sentence ("paragraph 2 of Article 7") is no paragraph
    assert _texts("1. Under paragraph 2 of Article 7 the worker pays.", 0) == [
        ("", "1. Under paragraph 2 of Article 7 the worker pays.")
    ]


def test_an_unnumbered_long_body_is_cut_into_sentence_groups() -> None:
    sentence = "The employer pays the cost of the journey of the worker to the place of work. "
    text = sentence * 12
    parts = split_paragraphs(text)
    assert len(parts) >= 2
    assert all(p.label == "" for p in parts)
    assert all(p.end - p.start < 2 * GROUP_CHARS for p in parts)
    assert text[parts[0].start : parts[-1].end] == text.strip()


def test_blank_and_short_bodies() -> None:
    assert split_paragraphs("Article 1\n   ", 10) == ()
    assert _texts("Article 1\nThis Agreement applies to workers.", 10) == [
        ("", "This Agreement applies to workers.")
    ]
