"""Tagging benchmark: precision, recall and F1 of the clause tagger against a gold set.

Usage::

    python -m migralex.evaluation.tagging --corpus ../shared/corpus [--json]

The gold set has two parts, both naming articles by ``(doc_id, label as printed)`` so that it
survives changes of the segmenter (clause ids and paragraph splits may move):

1. **Heading-derived** (English SSAs): built at evaluation time from article headings and the
   enclosing division headings (``clause.context``) with :data:`HEADING_RULES` /
   :data:`CONTEXT_RULES` below, which are data, not code. An article matched by a rule is judged
   for the rule's tags (present) and for the other tags of its ``judged`` list (absent). Articles
   no rule matches are not judged.
2. **Hand-labelled** (``evaluation/data/tagging_gold*.json``): entries
   ``{"doc_id", "label", "tags": [...], "absent": [...]}`` — the tags judged present and the
   tags judged absent for that article; a tag in neither list is not judged for it (ambiguous).
   A hand label overrides the heading-derived one for the same article.

What is a positive: a judged ``(article, tag)`` pair. The article is *predicted* to have a tag
when any clause resolved from its ``(doc_id, label)`` carries the tag. TP = judged present and
predicted; FP = judged absent and predicted; FN = judged present and not predicted. Support is
the number of judged-present pairs. Clause level does the same per clause, each clause
inheriting its article's judgement (this under-states recall: a paragraph of an article need not
restate the article's subject).

Macro-F1 is the unweighted mean of per-tag F1 over (a) the coordination tags
:data:`COORDINATION_TAGS` and (b) every tag with support > 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migralex.corpus.models import Clause

COORDINATION_TAGS: tuple[str, ...] = (
    "equality_of_treatment",
    "export_of_benefits",
    "totalisation",
    "applicable_legislation",
    "administrative_assistance",
)

_DATA = Path(__file__).resolve().parent / "data"

_AL_CONTEXT = r"applicable legislation|legislation applicable|coverage"


@dataclass(frozen=True, slots=True)
class HeadingRule:
    """An SSA article heading (and optionally an enclosing heading) that implies tags.

    Attributes:
        heading: regular expression, full match against the lower-cased, white-space
            normalised article heading.
        tags: the tags the heading implies (present).
        judged: further tags judged (absent unless in ``tags``); defaults to the coordination
            tags.
        context: if set, a regular expression that must match (search) one enclosing heading.
    """

    heading: str
    tags: tuple[str, ...]
    judged: tuple[str, ...] = COORDINATION_TAGS
    context: str = ""


#: Heading → tags for English SSA articles. First matching rule wins. Headings that name a
#: subject with none of the coordination principles (definitions, final clauses) are judged
#: "no coordination tag"; headings whose articles mix principles (e.g. "Benefits under the Old
#: Age Security Act", "Transitional Provisions", "Payment of Benefits") are not listed.
HEADING_RULES: tuple[HeadingRule, ...] = (
    HeadingRule(r"equality of treatment|equal treatment", ("equality_of_treatment",)),
    HeadingRule(
        r"export of (?:a |the )?benefits?|payment of benefits abroad|payment abroad",
        ("export_of_benefits",),
    ),
    HeadingRule(
        r"(?:minimum )?periods? (?:to be )?totali[sz]ed|totali[sz](?:ing|ation)(?: of periods)?"
        r"|special rules? for totali[sz]ation",
        ("totalisation",),
    ),
    HeadingRule(
        r"detachments?|detached workers?|posted workers?|posted civil servants|secondment",
        ("applicable_legislation",),
    ),
    HeadingRule(
        r"general rules?(?: regarding coverage)?(?: (?:for|of) employed and self-employed persons)?"
        r"|rules regarding coverage|government(?: and similar)? employment|crews? of ships.*"
        r"|crew members on vessels|employment by diplomatic and consular missions"
        r"|personnel of diplomatic and consular missions|exceptions?"
        r"|employed and self-employed persons",
        ("applicable_legislation",),
        context=_AL_CONTEXT,
    ),
    HeadingRule(
        r"exchange of information and mutual assistance",
        ("administrative_assistance", "information_exchange"),
        COORDINATION_TAGS + ("information_exchange",),
    ),
    HeadingRule(
        r"mutual assistance|administrative (?:and legal )?assistance|administrative arrangements?",
        ("administrative_assistance",),
    ),
    HeadingRule(
        r"resolution of (?:disputes|disagreements|difficulties)|settlement of disputes|disputes",
        ("dispute_settlement",),
        COORDINATION_TAGS + ("dispute_settlement",),
    ),
    HeadingRule(
        r"submitting (?:of )?(?:a )?claims?,? (?:notices?|appeals?).*|lodgement of documents",
        ("claims_and_appeals",),
        COORDINATION_TAGS + ("claims_and_appeals",),
    ),
    HeadingRule(
        r"confidentiality of information|data protection|protection of personal information",
        ("data_protection",),
        COORDINATION_TAGS + ("data_protection",),
    ),
    HeadingRule(
        r"definitions?|interpretation|entry into (?:force|effect)(?: and termination)?"
        r"|(?:period of )?duration and termination|termination|denunciation"
        r"|languages? (?:of communication)?|language|personal scope(?: of application)?"
        r"|persons to whom the agreement applies|persons covered|legislative scope"
        r"|legislation to which the agreement applies|material scope(?: of application)?"
        r"|matters covered|territorial application|exemption or reduction of .*|exemption from fees"
        r"|currenc(?:y|ies)|statistics|review of (?:the )?agreement|amendment"
        r"|understandings? with a province of canada|competent authorities|competent institutions",
        (),
    ),
)

#: Enclosing headings (``clause.context``) that imply tags for every article under them,
#: unless the article's heading matched a rule with no tags (e.g. "Definitions").
CONTEXT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"^totali[sz]ing(?: of periods)?$", ("totalisation",)),
)


@dataclass(slots=True)
class Judgement:
    """Gold for one article: tags present and tags absent (others are not judged)."""

    doc_id: str
    label: str
    present: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)
    source: str = "hand"


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .:")


def heading_judgement(heading: str, context: Sequence[str]) -> tuple[set[str], set[str]] | None:
    """Return (present, absent) tags implied by an SSA article heading and its context.

    Returns ``None`` when no rule applies (the article is not judged).
    """
    h = _norm(heading)
    ctx = [_norm(c) for c in context]
    present: set[str] = set()
    judged: set[str] = set()
    matched = False
    neutral = False
    for rule in HEADING_RULES:
        if not h or not re.fullmatch(rule.heading, h):
            continue
        if rule.context and not any(re.search(rule.context, c) for c in ctx):
            continue
        present, judged, matched = set(rule.tags), set(rule.judged), True
        neutral = not rule.tags
        break
    if not neutral:
        for pattern, tags in CONTEXT_RULES:
            if any(re.search(pattern, c) for c in ctx):
                present |= set(tags)
                judged |= set(COORDINATION_TAGS)
                matched = True
    if not matched:
        return None
    return present, judged - present


def _articles(clauses: Iterable[Clause]) -> dict[str, list[Clause]]:
    out: dict[str, list[Clause]] = {}
    for c in clauses:
        out.setdefault(c.label, []).append(c)
    return out


def load_hand_gold(paths: Sequence[Path] | None = None) -> list[Judgement]:
    """Read the hand-labelled gold files (default: ``evaluation/data/tagging_gold*.json``)."""
    files = list(paths) if paths is not None else sorted(_DATA.glob("tagging_gold*.json"))
    out: list[Judgement] = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for e in data["entries"]:
            present, absent = set(e["tags"]), set(e["absent"])
            if present & absent:
                raise ValueError(
                    f"{path.name}: {e['doc_id']} {e['label']}: tag both present and absent"
                )
            out.append(Judgement(e["doc_id"], e["label"], present, absent))
    return out


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: bool, predicted: bool) -> None:
        if gold and predicted:
            self.tp += 1
        elif gold:
            self.fn += 1
        elif predicted:
            self.fp += 1

    def scores(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "support": self.tp + self.fn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


def _macro(per_tag: Mapping[str, Mapping[str, Any]], tags: Iterable[str]) -> float:
    values = [per_tag[t]["f1"] for t in tags if t in per_tag and per_tag[t]["support"] > 0]
    return round(sum(values) / len(values), 4) if values else 0.0


def score(
    judgements: Sequence[Judgement],
    clauses_by_doc: Mapping[str, tuple[str, Sequence[Clause]]],
    tags_by_clause: Mapping[str, set[str]],
) -> dict[str, Any]:
    """Score predictions against judgements.

    Args:
        judgements: gold articles.
        clauses_by_doc: doc_id → (language, clauses).
        tags_by_clause: clause_id → predicted tag names.

    Returns:
        ``{"articles", "unresolved", "article_level": {...}, "clause_level": {...}, "errors"}``
        where each level holds ``per_tag`` ({tag: P/R/F1/support/tp/fp/fn}), ``per_language``
        ({lang: {tag: ...}}), ``macro_f1_coordination`` and ``macro_f1_all``.
    """
    art: dict[str, Counts] = defaultdict(Counts)
    art_lang: dict[str, dict[str, Counts]] = defaultdict(lambda: defaultdict(Counts))
    cl: dict[str, Counts] = defaultdict(Counts)
    cl_lang: dict[str, dict[str, Counts]] = defaultdict(lambda: defaultdict(Counts))
    unresolved: list[str] = []
    errors: list[dict[str, str]] = []
    n = 0
    articles = {d: (lang, _articles(cs)) for d, (lang, cs) in clauses_by_doc.items()}
    for j in judgements:
        lang, by_label = articles.get(j.doc_id, ("", {}))
        found = by_label.get(j.label, [])
        if not found:
            unresolved.append(f"{j.doc_id} {j.label}")
            continue
        n += 1
        predicted = set().union(*(tags_by_clause.get(c.clause_id, set()) for c in found))
        for tag in sorted(j.present | j.absent):
            gold = tag in j.present
            art[tag].add(gold, tag in predicted)
            art_lang[lang][tag].add(gold, tag in predicted)
            if gold != (tag in predicted):
                errors.append(
                    {
                        "kind": "FN" if gold else "FP",
                        "tag": tag,
                        "doc_id": j.doc_id,
                        "label": j.label,
                        "source": j.source,
                    }
                )
            for c in found:
                hit = tag in tags_by_clause.get(c.clause_id, set())
                cl[tag].add(gold, hit)
                cl_lang[lang][tag].add(gold, hit)

    def level(total: Mapping[str, Counts], by_lang: Mapping[str, Mapping[str, Counts]]) -> dict:
        per_tag = {t: total[t].scores() for t in sorted(total)}
        per_language = {
            lang: {t: c.scores() for t, c in sorted(tags.items())}
            for lang, tags in sorted(by_lang.items())
        }
        return {
            "per_tag": per_tag,
            "per_language": per_language,
            "macro_f1_coordination": _macro(per_tag, COORDINATION_TAGS),
            "macro_f1_all": _macro(per_tag, per_tag),
            "macro_f1_by_language": {
                lang: {
                    "coordination": _macro(tags, COORDINATION_TAGS),
                    "all": _macro(tags, tags),
                }
                for lang, tags in per_language.items()
            },
        }

    return {
        "articles": n,
        "unresolved": unresolved,
        "article_level": level(art, art_lang),
        "clause_level": level(cl, cl_lang),
        "errors": errors,
    }


def build_judgements(
    clauses_by_doc: Mapping[str, tuple[str, Sequence[Clause]]],
    kinds: Mapping[str, str],
    hand: Sequence[Judgement],
) -> list[Judgement]:
    """Heading-derived judgements for English SSAs, overridden by the hand labels."""
    out: dict[tuple[str, str], Judgement] = {}
    for doc_id, (lang, clauses) in clauses_by_doc.items():
        if kinds.get(doc_id) != "ssa" or lang != "en":
            continue
        for label, cs in _articles(clauses).items():
            got = heading_judgement(cs[0].heading, cs[0].context)
            if got is not None:
                out[(doc_id, label)] = Judgement(doc_id, label, got[0], got[1], "heading")
    for j in hand:
        out[(j.doc_id, j.label)] = j
    return list(out.values())


def run(corpus: Path) -> dict[str, Any]:
    """Read and segment the gold documents of ``corpus``, tag them and score the tagger."""
    from migralex.corpus.manifest import read_manifest
    from migralex.ingest.pipeline import prepare
    from migralex.nlp.tagger import tag_clauses

    entries = read_manifest(corpus / "manifest.csv")
    hand = load_hand_gold()
    wanted = {j.doc_id for j in hand}
    clauses_by_doc: dict[str, tuple[str, Sequence[Clause]]] = {}
    kinds: dict[str, str] = {}
    for path, entry in sorted(entries.items(), key=lambda kv: kv[1].doc_id):
        if not (entry.doc_id in wanted or (entry.kind == "ssa" and entry.language == "en")):
            continue
        if not path.is_file():
            continue
        doc, seg = prepare(path, entry)
        clauses_by_doc[doc.doc_id] = (doc.language, seg.clauses)
        kinds[doc.doc_id] = doc.kind
    tags_by_clause: dict[str, set[str]] = defaultdict(set)
    n_clauses = 0
    t0 = time.perf_counter()
    for _doc_id, (lang, clauses) in clauses_by_doc.items():
        n_clauses += len(clauses)
        for t in tag_clauses(clauses, lang):
            tags_by_clause[t.clause_id].add(t.name)
    seconds = time.perf_counter() - t0
    judgements = build_judgements(clauses_by_doc, kinds, hand)
    result = score(judgements, clauses_by_doc, tags_by_clause)
    result["hand_labelled"] = sum(1 for j in judgements if j.source == "hand")
    result["heading_derived"] = sum(1 for j in judgements if j.source == "heading")
    result["documents"] = len(clauses_by_doc)
    result["clauses_tagged"] = n_clauses
    result["tag_seconds"] = round(seconds, 3)
    result["clauses_per_second"] = round(n_clauses / seconds, 1) if seconds else 0.0
    return result


def format_table(result: Mapping[str, Any]) -> str:
    """Render the article-level report (and clause-level macro-F1) as plain text."""
    lines = []
    lvl = result["article_level"]
    langs = sorted(lvl["per_language"])
    head = f"{'tag':28} {'P':>6} {'R':>6} {'F1':>6} {'sup':>5}"
    head += "".join(f" | {lang}: {'P':>5} {'R':>5} {'F1':>5} {'sup':>4}" for lang in langs)
    lines.append(head)
    lines.append("-" * len(head))
    for tag, s in lvl["per_tag"].items():
        row = f"{tag:28} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:5d}"
        for lang in langs:
            ls = lvl["per_language"][lang].get(tag)
            if ls is None:
                row += " |" + " " * 28
            else:
                row += (
                    f" | {lang}: {ls['precision']:5.2f} {ls['recall']:5.2f} {ls['f1']:5.2f}"
                    f" {ls['support']:4d}"
                )
        lines.append(row)
    lines.append("")
    lines.append(
        f"articles judged: {result['articles']} (hand {result['hand_labelled']}, heading "
        f"{result['heading_derived']}); unresolved references: {len(result['unresolved'])}"
    )
    for name in ("article_level", "clause_level"):
        lv = result[name]
        by_lang = ", ".join(
            f"{lang} {v['coordination']:.3f}/{v['all']:.3f}"
            for lang, v in lv["macro_f1_by_language"].items()
        )
        lines.append(
            f"{name}: macro-F1 coordination {lv['macro_f1_coordination']:.3f}, all tags "
            f"{lv['macro_f1_all']:.3f}  (by language coordination/all: {by_lang})"
        )
    lines.append(
        f"tagging speed: {result['clauses_per_second']:.0f} clauses/s "
        f"({result['clauses_tagged']} clauses in {result['tag_seconds']:.2f} s)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m migralex.evaluation.tagging", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--errors", action="store_true", help="list the FP/FN articles")
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        parser.error(f"{args.corpus}: no manifest.csv (give --corpus)")
    result = run(args.corpus)
    if args.json:
        json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(format_table(result))
        if args.errors:
            for e in result["errors"]:
                print(f"{e['kind']} {e['tag']:26} {e['doc_id']} {e['label']} ({e['source']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
