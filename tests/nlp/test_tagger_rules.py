"""Every pattern rule pinned: its written example, its counter-example and a real corpus clause.

Each rule in ``nlp/patterns/<lang>/<tag>.json`` carries ``example`` (a sentence written for the
tests that the rule tags), ``counter_example`` (a near miss that must not get the rule's tag) and,
where the rule fires in the corpus, ``corpus_example``: ``{"doc": doc_id, "label": "Article 4"}``.
The corpus clause is read from ``../shared/corpus`` at test time (never copied into the repo): the
document is found through the manifest, prepared once per session, and the rule must fire in one
of the first clauses carrying that label (an article split into paragraphs is several clauses).
For a ``heading`` rule the written sentences are clause headings, for a ``context`` rule division
headings.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, corpus_missing

from migralex.corpus.manifest import ManifestEntry, read_manifest
from migralex.corpus.models import Clause
from migralex.nlp.tagger import SUPPORTED_LANGUAGES, tag_clauses

PATTERNS = Path(str(resources.files("migralex.nlp").joinpath("patterns")))
_LABEL = "Article 1"


def _load_rules() -> list[tuple[str, str, dict[str, Any]]]:
    """Return ``(language, tag, rule)`` for every rule of every pattern file."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for language in SUPPORTED_LANGUAGES:
        for path in sorted((PATTERNS / language).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            out.extend((language, data["tag"], rule) for rule in data["rules"])
    return out


RULES = _load_rules()


def _params(key: str) -> list[Any]:
    return [
        pytest.param(language, tag, rule, id=rule["id"])
        for language, tag, rule in RULES
        if key in rule
    ]


def _clause(sentence: str, scope: str, language: str) -> Clause:
    """One clause holding ``sentence`` where a rule of ``scope`` looks for it."""
    heading, context, text = "", (), sentence
    if scope == "heading":
        heading, text = sentence, f"{_LABEL} {sentence}\n"
    elif scope == "context":
        context, text = (sentence,), _LABEL
    return Clause(
        clause_id="t:1",
        doc_id="t",
        ordinal=0,
        label=_LABEL,
        heading=heading,
        path=(_LABEL,),
        text=text,
        start=0,
        end=len(text),
        page_start=1,
        page_end=1,
        language=language,
        context=context,
    )


def _tags(sentence: str, rule: dict[str, Any], language: str) -> list[Any]:
    return tag_clauses([_clause(sentence, rule.get("scope", "any"), language)], language)


def test_rules_found() -> None:
    assert len(RULES) > 150
    assert len({rule["id"] for _, _, rule in RULES}) == len(RULES)


def test_every_rule_has_written_examples() -> None:
    missing = [
        rule["id"]
        for _, _, rule in RULES
        if not rule.get("example") or not rule.get("counter_example")
    ]
    assert missing == []


@pytest.mark.parametrize(("language", "tag", "rule"), _params("example"))
def test_example_gets_the_rule(language: str, tag: str, rule: dict[str, Any]) -> None:
    tags = _tags(rule["example"], rule, language)
    assert rule["id"] in {t.rule for t in tags}, [(t.rule, t.text) for t in tags]


@pytest.mark.parametrize(("language", "tag", "rule"), _params("counter_example"))
def test_counter_example_does_not_get_the_tag(
    language: str, tag: str, rule: dict[str, Any]
) -> None:
    tags = _tags(rule["counter_example"], rule, language)
    assert [(t.rule, t.text) for t in tags if t.name == tag] == []


@functools.cache
def _manifest() -> dict[str, ManifestEntry]:
    """Manifest entries of the shared corpus keyed by document id."""
    entries = read_manifest(CORPUS / "manifest.csv")
    return {entry.doc_id: entry for entry in entries.values()}


@functools.cache
def _prepared(doc_id: str) -> tuple[str, tuple[Clause, ...]]:
    """``(language, clauses)`` of a corpus document, read and segmented once per session."""
    from migralex.ingest.pipeline import prepare

    entry = _manifest()[doc_id]
    doc, seg = prepare(entry.path, entry)
    return doc.language, tuple(seg.clauses)


def _first_clauses(clauses: tuple[Clause, ...], label: str) -> list[Clause]:
    """The first run of consecutive clauses labelled ``label`` (one article, maybe split)."""
    out: list[Clause] = []
    for clause in clauses:
        if clause.label == label:
            out.append(clause)
        elif out:
            break
    return out


@pytest.mark.parametrize(("language", "tag", "rule"), _params("corpus_example"))
def test_corpus_example_gets_the_rule(language: str, tag: str, rule: dict[str, Any]) -> None:
    if not (CORPUS / "manifest.csv").is_file():
        corpus_missing(f"shared corpus not found ({CORPUS})")
    ref = rule["corpus_example"]
    assert ref["doc"] in _manifest(), f"{ref['doc']} is not in the corpus manifest"
    doc_language, clauses = _prepared(ref["doc"])
    assert doc_language == language
    article = _first_clauses(clauses, ref["label"])
    assert article, f"{ref['doc']} has no clause labelled {ref['label']!r}"
    assert rule["id"] in {t.rule for t in tag_clauses(article, language)}
