"""Tests of the legal vocabulary data files (nlp/vocab/*.yaml, nlp/vocabulary.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.nlp import vocabulary

_ENTRIES = [
    (group, entry) for group in vocabulary.load_vocabulary().values() for entry in group.entries
]


@pytest.mark.parametrize(("group", "entry"), _ENTRIES, ids=[f"{g.id}.{e.id}" for g, e in _ENTRIES])
def test_every_entry_compiles_has_a_source_and_matches_its_example(
    group: vocabulary.VocabGroup, entry: vocabulary.VocabEntry
) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", entry.id)
    assert entry.source.strip() and entry.example.strip()
    assert set(entry.patterns) <= set(vocabulary.LANGUAGES) and entry.flat()
    compiled = vocabulary.entry_regex(group, entry)
    assert compiled.search(vocabulary.example_text(group, entry.example)), entry.example
    # The entry's patterns are part of its group's compiled regex.
    for pattern in entry.flat():
        assert pattern in vocabulary.patterns(group.id)
    assert vocabulary.regex(group.id).search(vocabulary.example_text(group, entry.example))


def test_groups_and_entry_ids_are_unique_and_files_are_read_once() -> None:
    groups = vocabulary.load_vocabulary()
    assert vocabulary.load_vocabulary() is groups
    assert {"negation", "annex_words", "costs_on_worker", "generic_heading"} <= set(groups)
    for group in groups.values():
        ids = [e.id for e in group.entries]
        assert len(ids) == len(set(ids)), group.id
        assert group.source_file.endswith(".yaml")


def test_unknown_group_lists_the_valid_ones() -> None:
    with pytest.raises(NotFoundError, match="valid groups: .*negation"):
        vocabulary.regex("no_such_group")


_GOOD = """\
groups:
  words:
    description: Test words.
    text: folded
    entries:
      - id: annex
        source: migralex drafting practice
        example: Bijlage I
        patterns:
          nl: [bijlage]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_GOOD.replace("Bijlage I", "Annex I"), "is not matched by the patterns"),
        (_GOOD.replace("[bijlage]", "['bij(lage']"), "bad regex"),
        (_GOOD.replace("nl: [bijlage]", "de: [bijlage]"), "unknown language(s) de"),
        (_GOOD.replace("        source: migralex drafting practice\n", ""), "source"),
        (_GOOD.replace("text: folded", "text: both"), "text"),
        (_GOOD.replace("      - id: annex", "      - id: Annex"), "id"),
        (_GOOD + _GOOD.split("entries:\n", 1)[1], "duplicate entry id"),
        ("groups: [\n", "not valid YAML"),
    ],
)
def test_bad_vocabulary_file_names_file_group_and_entry(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        vocabulary.load_vocabulary_file(path)
    message = str(info.value)
    assert str(path) in message and expected in message
    if "YAML" not in expected:
        assert "'words'" in message


def test_good_vocabulary_file_loads_with_patterns_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(_GOOD.replace("nl: [bijlage]", "nl: [bijlage]\n          en: [annex]"))
    (group,) = vocabulary.load_vocabulary_file(path).values()
    assert group.patterns() == ("bijlage", "annex")
    assert vocabulary.entry_regex(group, group.entries[0]).search("annex 2")


def test_safe_load_yaml_reads_the_shipped_files_as_pyyaml_does() -> None:
    import yaml

    from migralex.nlp.vocabulary import safe_load_yaml

    root = Path(__file__).resolve().parents[2] / "nlp"
    files = sorted(root.rglob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert safe_load_yaml(text) == yaml.safe_load(text), f
    assert safe_load_yaml("a: [1, yes, 2026-12-06]") == yaml.safe_load("a: [1, yes, 2026-12-06]")
    with pytest.raises(yaml.YAMLError):
        safe_load_yaml("a: [unclosed")
    with pytest.raises(yaml.YAMLError):  # a safe loader: no Python objects
        safe_load_yaml("!!python/object/apply:os.system ['true']")
