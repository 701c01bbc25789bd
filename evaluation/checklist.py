"""Checklist benchmark: drafts made from real agreements with whole topics removed.

For every SSA and BLA of the corpus manifest, the original is read and segmented, and each article
is given the checklist topics it belongs to by the gold rules of
``evaluation/data/checklist_topics.json`` (our own heading and opening-formula patterns,
independent of the engine's cues; articles are identified as (doc_id, label as printed) and
resolved at run time, so segmenter changes flow through). Drafts are then written to a temporary
folder, in Markdown and DOCX, from the segmented clauses:

* the untouched agreement (also run from its original PDF/HTML file);
* three variants with the articles of 1, 2 and 3 topics removed (topics chosen by a sha256 of
  the document id, so every run builds the same drafts).

Each draft is read back through the normal pipeline (reader, segmenter, tagger, embedder) and the
checklist is run on it. Expected status per item: ``absent`` when every gold article of the item
was removed, ``present or partial`` when one remains; items without gold articles in the original
are not scored (we cannot tell whether the topic is there).

Documents with hand judgments (``data/bla_judgments.json``: every item of the 8 BLAs, judged
by reading them whole) take their gold articles from the judgments instead of the topic rules,
so that an item is expected absent only when every article the reader found it in is removed.

Metrics, per checklist and language: item accuracy (absent vs present/partial), precision and
recall of ``absent``, and evidence precision@1 (the first evidence clause is a gold article of the
item, for items expected and found present). Documents are split by a sha256 of their id into
``dev`` (used by ``--calibrate`` to choose the engine thresholds) and ``test`` (reported).

Usage::

    python -m migralex.evaluation.checklist --corpus ../shared/corpus [--store STORE]
        [--model minilm] [--json OUT.json] [--calibrate] [--limit N] [--kinds ssa,bla]
        [--cache DRAFTS.pkl]

``--calibrate`` reports every split with the thresholds it chose (not the defaults); ``--cache``
keeps the drafts (and, beside them in ``*.vectors.pkl``, every clause, paragraph and cue vector) (reading, segmenting, tagging, embedding: minutes) so that engine changes can be
re-measured in seconds (delete the file when the corpus, reader or tagger change).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pickle
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.models import Clause, Tag
from migralex.nlp.checklist import (
    TAG_FLOOR,
    ChecklistResult,
    Thresholds,
    load_checklist,
    run_checklist,
    thresholds_for,
)
from migralex.nlp.checklist.topics import TopicModel
from migralex.nlp.text import fold as _fold

DATA = Path(__file__).resolve().parent / "data"
TOPICS_FILE = DATA / "checklist_topics.json"
#: Checklist per document kind.
CHECKLIST_OF_KIND = {"ssa": "ssa", "bla": "bla"}
#: Sizes of the removed topic sets, one draft each.
REMOVALS = (1, 2, 3)
_ANNEX = re.compile(
    r"^(?:final |additional )?(?:annex|annexe|anexo|appendix|schedule|bijlage|protocol|protocole|"
    r"protocolo|administrative (?:arrangement|agreement)|arrangement administratif)",
    re.IGNORECASE,
)
_PARA_START = re.compile(r"^(?:\(?\d{1,3}[.)]?|\(?[a-z]{1,4}\)|[-•])\s")
_TARGETS = {"accuracy": 0.97, "absent_recall": 0.95, "absent_precision": 0.9, "evidence_p1": 0.95}


# --------------------------------------------------------------------------------------------
# Gold topics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicRule:
    """Gold patterns of one checklist item (folded-text regexes)."""

    headings: re.Pattern[str] | None
    texts: re.Pattern[str] | None
    window: int = 500


def _compile(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def load_topics(path: Path = TOPICS_FILE) -> dict[str, dict[str, TopicRule]]:
    """Return ``{checklist id: {item id: rule}}`` from the gold topic file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: {
            item: TopicRule(
                _compile(spec.get("headings", [])),
                _compile(spec.get("texts", [])),
                int(spec.get("window", 500)),
            )
            for item, spec in items.items()
        }
        for name, items in raw.items()
        if not name.startswith("_")
    }


def article_key(clause: Clause) -> tuple[str, str]:
    """(container, label): container is the annex/protocol label, "" for the main body."""
    container = clause.path[0] if clause.path and _ANNEX.match(clause.path[0]) else ""
    if container and clause.label == container:
        return container, container
    return _fold(container), _fold(clause.label)


def _body(clause: Clause) -> str:
    text = clause.text
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith(clause.label.lower()):
        text = rest
    return _fold(text)


def gold_articles(
    clauses: Sequence[Clause], rules: dict[str, TopicRule]
) -> dict[str, set[tuple[str, str]]]:
    """Return ``{item id: article keys}`` of the main body articles in each item's topic."""
    gold: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for clause in clauses:
        key = article_key(clause)
        if key[0] or _fold(clause.label) in {"preamble", "preambule"}:
            continue
        heading = _fold(clause.heading)
        inner = _fold(clause.context[-1]) if clause.context else ""
        body = _body(clause)
        for item, rule in rules.items():
            window = body[: rule.window]
            if rule.headings and (
                (heading and rule.headings.search(heading))
                or (inner and rule.headings.search(inner))
            ):
                gold[item].add(key)
            elif rule.texts and rule.texts.search(window):
                gold[item].add(key)
    return dict(gold)


def judged_articles(
    clauses: Sequence[Clause], judged: Sequence[Judgment]
) -> dict[str, set[tuple[str, str]]]:
    """Return ``{item id: article keys}`` from hand judgments of one document.

    Every judged item is in the result: the clauses whose label (folded) is one of the judged
    articles, in any container (a protocol's "Artikel 1" and the main text's alike, so that a
    draft without them surely lacks the provision); an empty set for an item judged absent.
    """
    out: dict[str, set[tuple[str, str]]] = {}
    for j in judged:
        labels = {_fold(a) for a in j.articles} if j.status != "absent" else set()
        out[j.item] = {article_key(c) for c in clauses if _fold(c.label) in labels}
    return out


def choose_removals(doc_id: str, items: Iterable[str]) -> list[tuple[str, ...]]:
    """Topic sets to remove (sizes :data:`REMOVALS`), deterministic from ``doc_id``."""
    order = sorted(items, key=lambda i: hashlib.sha256(f"{doc_id}|{i}".encode()).hexdigest())
    out, start = [], 0
    for size in REMOVALS:
        chunk = tuple(order[start : start + size])
        if len(chunk) == size:
            out.append(chunk)
        start += size
    if not out and order:
        out.append((order[0],))
    return out


def gold_of(
    doc_id: str,
    clauses: Sequence[Clause],
    rules: dict[str, TopicRule],
    judged: dict[str, list[Judgment]],
) -> dict[str, set[tuple[str, str]]]:
    """A document's gold articles: from its hand judgments when it has them (every judged
    item, absent ones included), else from the topic rules."""
    if doc_id in judged:
        return judged_articles(clauses, judged[doc_id])
    return gold_articles(clauses, rules)


def _judgments_by_doc(judgments: Sequence[Judgment]) -> dict[str, list[Judgment]]:
    out: dict[str, list[Judgment]] = defaultdict(list)
    for j in judgments:
        out[j.doc_id].append(j)
    return dict(out)


def split_of(doc_id: str) -> str:
    """ "dev" or "test", from the sha256 of the document id (about half each)."""
    return "dev" if hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0 else "test"


# --------------------------------------------------------------------------------------------
# Draft writers
# --------------------------------------------------------------------------------------------


def _join_wrapped(lines: Sequence[str], k: int, first: str, target: str) -> tuple[str, int]:
    """Append ``lines[k:]`` to ``first`` while the result is still the start of ``target``
    (both compared folded); return the joined text and the index of the next line."""
    while k < len(lines) and _fold(target).startswith(_fold(f"{first} {lines[k]}")):
        first, k = f"{first} {lines[k]}", k + 1
    return first, k


def draft_paragraphs(text: str, label: str = "", heading: str = "") -> list[str]:
    """Re-flow a clause's lines into paragraphs (label line kept apart).

    A heading that starts on the label line and the source wrapped onto the next lines
    ("ARTICLE 4 Equality of Treatment and Payment of Benefits" / "Abroad") is written on one
    line, as a drafter types it; a heading printed under the label stays its own paragraph.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    first, k = lines[0], 1
    if heading and len(first.split()) > len(label.split()):
        first, k = _join_wrapped(lines, k, first, f"{label} {heading}")
    paras = [first]
    if heading and k < len(lines) and _fold(first) != _fold(f"{label} {heading}"):
        head, j = _join_wrapped(lines, k + 1, lines[k], heading)
        if _fold(head) == _fold(heading):
            paras.append(head)
            k = j
    current: list[str] = []
    for line in lines[k:]:
        if current and _PARA_START.match(line):
            paras.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        paras.append(" ".join(current))
    return paras


def draft_blocks(
    clauses: Sequence[Clause],
    headings: Sequence[Any],
    keep: Callable[[Clause], bool],
    strip_headings: bool = False,
) -> list[tuple[int, str]]:
    """Return (level, text) blocks of a draft: level 2 for division headings, 0 for text.

    A division heading is dropped when every clause under it (up to the next heading) is removed.
    With ``strip_headings`` the draft is written as many working drafts are typed: every article
    and division keeps its label ("Article 7", "PART II") but loses its title, so the engine
    must decide from the body alone (an unnumbered division heading is dropped).
    """
    events: list[tuple[int, int, Any]] = [(h.start, 0, h) for h in headings]
    events += [(c.start, 1, c) for c in clauses]
    events.sort(key=lambda e: (e[0], e[1]))
    blocks: list[tuple[int, str]] = []
    pending: list[str] = []
    seen_clause = False
    for _start, kind, obj in events:
        if kind == 0:
            if seen_clause:
                pending = []
            seen_clause = False
            title = obj.label if strip_headings else f"{obj.label} {obj.heading}"
            pending.append(" ".join(title.split()))
            continue
        seen_clause = True
        if not keep(obj):
            continue
        blocks += [(2, p) for p in pending if p]
        pending = []
        paras = draft_paragraphs(obj.text, obj.label, obj.heading)
        if strip_headings:
            paras = _strip_heading(paras, obj.label, obj.heading)
        blocks += [(0, p) for p in paras]
    return blocks


def _strip_heading(paras: list[str], label: str, heading: str) -> list[str]:
    """Remove an article's title from its re-flowed paragraphs (label line kept).

    The title is either on the label line ("Article 4 Equality of treatment") or the paragraph
    after it; a title that cannot be found as such is left alone (the draft then keeps it, which
    only makes the stripped condition easier, never wrongly harder).
    """
    if not heading or not paras:
        return paras
    out = list(paras)
    first = _fold(out[0])
    if first == _fold(f"{label} {heading}"):
        out[0] = label
    elif len(out) > 1 and _fold(out[1]) == _fold(heading):
        del out[1]
    else:
        words, n_label, n_head = out[0].split(), len(label.split()), len(heading.split())
        if _fold(" ".join(words[: n_label + n_head])) == _fold(f"{label} {heading}"):
            out[0] = " ".join(words[:n_label] + words[n_label + n_head :])
    return out


def write_markdown(blocks: Sequence[tuple[int, str]], title: str, path: Path) -> None:
    """Write blocks as Markdown (title as ``#``, divisions as ``##``)."""
    out = [f"# {title}", ""]
    for level, text in blocks:
        safe = re.sub(r"^(\d+)\.", r"\1\\.", text)  # keep "1." from becoming a list
        safe = re.sub(r"^([-*+#>])", r"\\\1", safe)
        out += [("## " + text) if level else safe, ""]
    path.write_text("\n".join(out), encoding="utf-8")


def write_docx(blocks: Sequence[tuple[int, str]], title: str, path: Path) -> None:
    """Write blocks as DOCX (title style, divisions as Heading 2)."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for level, text in blocks:
        if level:
            document.add_heading(text, level=2)
        else:
            document.add_paragraph(text)
    document.save(str(path))


WRITERS: dict[str, Callable[[Sequence[tuple[int, str]], str, Path], None]] = {
    "md": write_markdown,
    "docx": write_docx,
}


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Draft:
    """One draft read back through the pipeline, ready for the engine."""

    doc_id: str
    language: str
    checklist: str
    split: str
    fmt: str
    removed: tuple[str, ...]
    clauses: tuple[Clause, ...]
    tags: dict[str, list[Tag]]
    vectors: np.ndarray
    gold: dict[str, set[tuple[str, str]]]
    expected: dict[str, str] = field(default_factory=dict)
    #: "headed" (titles as in the source) or "stripped" (article and division titles removed).
    condition: str = "headed"


class CachedEmbedder:
    """Embeds passages and queries once per distinct text (drafts share most clauses)."""

    def __init__(self, embedder: Any) -> None:
        self._e = embedder
        self._passages: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}

    def _get(self, texts: Sequence[str], cache: dict[str, np.ndarray], fn: Any) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            for t, v in zip(missing, np.asarray(fn(missing), dtype=np.float32), strict=True):
                cache[t] = v
        if not texts:
            return np.zeros((0, self._e.dimension), np.float32)
        return np.stack([cache[t] for t in texts]).astype(np.float32)

    def dump(self) -> dict[str, dict[str, np.ndarray]]:
        """The vectors embedded so far, by text (for :meth:`load` in a later run)."""
        return {"passages": self._passages, "queries": self._queries}

    def load(self, state: dict[str, dict[str, np.ndarray]]) -> None:
        """Take vectors of an earlier run of the same model (:meth:`dump`)."""
        self._passages.update(state.get("passages", {}))
        self._queries.update(state.get("queries", {}))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """float32 ``(n, dim)``, L2-normalised."""
        return self._get(texts, self._passages, self._e.embed_passages)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 ``(n, dim)``, L2-normalised."""
        return self._get(texts, self._queries, self._e.embed_queries)


def _tag(clauses: Sequence[Clause], language: str) -> dict[str, list[Tag]]:
    from migralex.nlp.tagger import tag_clauses

    out: dict[str, list[Tag]] = {}
    for t in tag_clauses(clauses, language):
        out.setdefault(t.clause_id, []).append(t)
    return out


def _keeper(gone: set[tuple[str, str]]) -> Callable[[Clause], bool]:
    return lambda c: article_key(c) not in gone


def build_drafts(
    corpus: Path,
    emb: CachedEmbedder,
    workdir: Path,
    kinds: Sequence[str] = ("ssa", "bla"),
    log: Callable[[str], None] = lambda _m: None,
    limit: int | None = None,
) -> list[Draft]:
    """Read every manifest SSA/BLA, write and read back its drafts; return them all."""
    from migralex.corpus.manifest import read_manifest
    from migralex.ingest.pipeline import prepare
    from migralex.ui.service import clause_passage

    topics = load_topics()
    judged = _judgments_by_doc(load_judgments())
    entries = read_manifest(corpus / "manifest.csv")
    drafts: list[Draft] = []
    todo = sorted(
        ((p, e) for p, e in entries.items() if e.kind in kinds and p.is_file()),
        key=lambda pe: pe[1].doc_id,
    )
    if limit:
        per_group: dict[tuple[str, str], int] = defaultdict(int)
        kept = []
        for p, e in todo:
            per_group[(e.kind, e.language)] += 1
            if per_group[(e.kind, e.language)] <= limit:
                kept.append((p, e))
        todo = kept
    for path, entry in todo:
        name = CHECKLIST_OF_KIND[entry.kind]
        try:
            doc, seg = prepare(path, entry)
        except Exception as exc:  # noqa: BLE001 - a benchmark records and goes on
            log(f"skip {path.name}: {exc}")
            continue
        gold = gold_of(doc.doc_id, seg.clauses, topics[name], judged)
        if not gold:
            log(f"skip {doc.doc_id}: no gold topic")
            continue
        variants: list[tuple[str, tuple[str, ...], bool]] = [("orig", (), False)]
        for fmt, strip in itertools.product(WRITERS, (False, True)):
            variants.append((fmt, (), strip))
            variants += [(fmt, r, strip) for r in choose_removals(doc.doc_id, gold)]
        for fmt, removed, strip in variants:
            gone: set[tuple[str, str]] = set().union(*(gold[i] for i in removed))
            if fmt == "orig":
                clauses, language = seg.clauses, doc.language
            else:
                blocks = draft_blocks(seg.clauses, seg.headings, _keeper(gone), strip)
                name_part = "-".join(removed) or "full"
                out = workdir / f"{doc.doc_id}--{name_part}{'--bare' if strip else ''}.{fmt}"
                WRITERS[fmt](blocks, doc.title, out)
                d2, s2 = prepare(out, None, "draft", doc.language)
                clauses, language = s2.clauses, d2.language
            draft_gold = {i: {k for k in keys if k not in gone} for i, keys in gold.items()}
            vectors = emb.passages([clause_passage(c) for c in clauses])
            d = Draft(
                doc.doc_id,
                doc.language,
                name,
                split_of(doc.doc_id),
                fmt,
                removed,
                tuple(clauses),
                _tag(clauses, language),
                vectors,
                draft_gold,
            )
            d.expected = {i: "absent" if not keys else "present" for i, keys in draft_gold.items()}
            d.condition = "stripped" if strip else "headed"
            drafts.append(d)
        log(f"{doc.doc_id} ({doc.language}): {len(seg.clauses)} clauses, gold {sorted(gold)}")
    return drafts


#: Characters of a gold article's body looked for in a draft's clauses (:func:`held_articles`).
_SNIPPET_CHARS = 160


def held_articles(
    keys: set[tuple[str, str]], original: Sequence[Clause], draft: Sequence[Clause]
) -> set[tuple[str, str]]:
    """The draft's article keys that hold the original's gold articles ``keys``.

    A gold article is held under its own key when the draft has a clause of that key, and
    otherwise under the key of the draft clause whose text contains the start of its body
    (``_SNIPPET_CHARS`` folded characters): when articles around it are removed, a draft read
    back can merge it into the clause before ("7." followed by "9." is read as one numbered
    paragraph), and the provision is still in the draft.
    """
    own = {article_key(c) for c in draft}
    texts = [(article_key(c), _fold(c.text)) for c in draft]
    out: set[tuple[str, str]] = set()
    for clause in original:
        key = article_key(clause)
        if key not in keys:
            continue
        if key in own:
            out.add(key)
            continue
        snippet = _body(clause)[:_SNIPPET_CHARS]
        if len(snippet) >= 40:
            out.update(k for k, text in texts if snippet in text)
    return out


def regold(drafts: Sequence[Draft], topics: dict[str, dict[str, TopicRule]]) -> int:
    """Recompute ``gold`` and ``expected`` of every draft from the current topic rules.

    Gold articles come from the untouched original of each document (its ``orig`` draft); a
    draft's gold is the part of them the draft still holds, so expectations follow what the
    draft really contains (and cached drafts follow edits of the topic file). Items without gold
    articles in the original stay unscored.

    Returns:
        The number of drafts whose expectations changed.
    """
    originals = {d.doc_id: d for d in drafts if d.fmt == "orig"}
    judged = _judgments_by_doc(load_judgments())
    changed = 0
    for d in drafts:
        orig = originals.get(d.doc_id)
        if orig is None:
            continue
        gold = gold_of(d.doc_id, orig.clauses, topics[d.checklist], judged)
        d.gold = {item: held_articles(keys, orig.clauses, d.clauses) for item, keys in gold.items()}
        expected = {item: "present" if keys else "absent" for item, keys in d.gold.items()}
        changed += expected != d.expected
        d.expected = expected
    return changed


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """Counts behind the metrics."""

    n: int = 0
    correct: int = 0
    tp_absent: int = 0
    pred_absent: int = 0
    true_absent: int = 0
    ev_n: int = 0
    ev_ok: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def count(self, expected_absent: bool, got_absent: bool, evidence_ok: bool | None) -> None:
        """Count one scored item; ``evidence_ok`` is None when evidence is not scored (the
        item is not expected and found present, or has no evidence)."""
        self.n += 1
        self.correct += expected_absent == got_absent
        self.true_absent += expected_absent
        self.pred_absent += got_absent
        self.tp_absent += got_absent and expected_absent
        if evidence_ok is not None:
            self.ev_n += 1
            self.ev_ok += evidence_ok

    def metrics(self) -> dict[str, Any]:
        """accuracy, absent precision/recall, evidence P@1 (None when undefined), counts."""

        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "items": self.n,
            "accuracy": ratio(self.correct, self.n),
            "absent_precision": ratio(self.tp_absent, self.pred_absent),
            "absent_recall": ratio(self.tp_absent, self.true_absent),
            "absent_expected": self.true_absent,
            "evidence_p1": ratio(self.ev_ok, self.ev_n),
            "evidence_n": self.ev_n,
        }


def score_draft(draft: Draft, result: ChecklistResult, tally: Tally, keep_errors: bool) -> None:
    """Add one draft's checklist result to ``tally``."""
    for r in result.items:
        expected = draft.expected.get(r.item.id)
        if expected is None:
            continue
        got_absent = r.status == "absent"
        ok = got_absent == (expected == "absent")
        ev_ok = None
        if expected == "present" and not got_absent and r.evidence:
            ev_ok = article_key(r.evidence[0].clause) in draft.gold[r.item.id]
        tally.count(expected == "absent", got_absent, ev_ok)
        if keep_errors and (not ok or ev_ok is False):
            tally.errors.append(
                {
                    "doc_id": draft.doc_id,
                    "split": draft.split,
                    "format": draft.fmt,
                    "condition": draft.condition,
                    "removed": list(draft.removed),
                    "item": r.item.id,
                    "expected": expected,
                    "status": r.status,
                    "evidence": r.evidence[0].clause.citation if r.evidence else "",
                    "gold": sorted(k[1] for k in draft.gold[r.item.id]),
                    "reason": r.reason,
                }
            )


def check_draft(
    d: Draft,
    emb: CachedEmbedder,
    thresholds: Thresholds | None,
    topics: Mapping[str, TopicModel] | None = None,
) -> ChecklistResult:
    """Run the draft's checklist on it, paragraphs embedded through ``emb``, with the topic
    model of its checklist from ``topics`` (none when missing)."""
    return run_checklist(
        load_checklist(d.checklist),  # cached by the loader
        d.clauses,
        d.tags,
        d.vectors,
        emb.queries,
        thresholds=thresholds,
        embed_passages=emb.passages,
        topic_model=(topics or {}).get(d.checklist),
    )


def train_topic_models(
    drafts: Sequence[Draft], emb: CachedEmbedder, model: str, split: str = "dev"
) -> dict[str, TopicModel]:
    """One topic model per checklist (:mod:`migralex.nlp.checklist.topics`), trained on the
    headed articles of the ``split`` documents' original files only, their bodies embedded
    through ``emb``: the test split's articles are never seen."""
    from migralex.index.topic_training import body_passages
    from migralex.nlp.checklist.topics import train, training_data

    out: dict[str, TopicModel] = {}
    for name in sorted({d.checklist for d in drafts}):
        checklist = load_checklist(name)
        chosen: list[Clause] = []
        labels: list[str] = []
        for d in drafts:
            if d.checklist == name and d.split == split and d.fmt == "orig" and not d.removed:
                c, lab = training_data(checklist, d.clauses)
                chosen += c
                labels += lab
        if len(set(labels)) >= 2:
            vectors = emb.passages(body_passages(chosen))
            out[name] = train(name, model, vectors, labels)
    return out


def tally_keys(d: Draft) -> list[tuple[str, str, str, str]]:
    """The (checklist, language, condition, split) tallies a draft counts in ("*" = any)."""
    keys = []
    for split in (d.split, "all"):
        keys += [
            (d.checklist, d.language, d.condition, split),
            (d.checklist, "*", d.condition, split),
            (d.checklist, "*", "*", split),
        ]
    return keys


def evaluate(
    drafts: Sequence[Draft],
    emb: CachedEmbedder,
    thresholds: Thresholds | None = None,
    split: str | None = None,
    keep_errors: bool = False,
    topics: Mapping[str, TopicModel] | None = None,
) -> dict[tuple[str, str, str, str], Tally]:
    """Run the engine on every draft; tallies by (checklist, language, condition, split).

    ``language`` and ``condition`` are ``"*"`` in the pooled tallies, ``split`` is ``"all"``
    in the tallies over both splits; errors are kept in the per-language ``"all"`` tallies.
    """
    tallies: dict[tuple[str, str, str, str], Tally] = defaultdict(Tally)
    for d in drafts:
        if split and d.split != split:
            continue
        result = check_draft(d, emb, thresholds, topics)
        for key in tally_keys(d):
            keep = keep_errors and key[3] == "all" and key[1] != "*" and key[2] != "*"
            score_draft(d, result, tallies[key], keep)
    return dict(tallies)


def _objective(tallies: dict[tuple[str, str, str, str], Tally]) -> float:
    """Sum over SSA languages and heading conditions of accuracy + absent F1 + evidence P@1."""
    total = 0.0
    for (name, lang, cond, split), t in tallies.items():
        if name != "ssa" or split == "all" or "*" in (lang, cond):
            continue
        m = t.metrics()
        p, r = m["absent_precision"] or 0.0, m["absent_recall"] or 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        total += (m["accuracy"] or 0.0) + f1 + (m["evidence_p1"] or 0.0)
    return total


#: Threshold values tried by :func:`calibrate` (the partial band is the present value or .05
#: below it; ``semantic_untagged`` from the present value up). Wide enough for models whose
#: cosines sit high (multilingual-e5-small puts unrelated treaty clauses at .75-.85).
CALIBRATION_GRID: dict[str, tuple[float, ...]] = {
    "semantic_present": (0.7, 0.75, 0.8, 0.85, 0.88, 0.9),
    "tag_support": (0.55, 0.65, 0.75, 0.85),
    "semantic_margin": (0.0, -0.03, -0.06),
    "lead_chars": (200, 300),
    "semantic_untagged": (0.8, 0.85, 0.9, 1.0),
}


def calibrate(
    drafts: Sequence[Draft],
    emb: CachedEmbedder,
    topics: Mapping[str, TopicModel] | None = None,
) -> tuple[Thresholds, float]:
    """Grid search (:data:`CALIBRATION_GRID`) of the engine thresholds on the dev split.

    Returns:
        The best thresholds and their objective (:func:`_objective`, on dev SSA drafts).
    """
    best: tuple[float, Thresholds] | None = None
    drafts = [d for d in drafts if d.checklist == "ssa" and d.split == "dev"]
    g = CALIBRATION_GRID
    grid = itertools.product(
        g["semantic_present"], (0.0, 0.05), g["tag_support"], g["semantic_margin"],
        g["lead_chars"], g["semantic_untagged"],
    )  # fmt: skip
    for present, band, support, margin, lead, untagged in grid:
        if untagged < present:
            continue
        floor = min(TAG_FLOOR, support)
        th = Thresholds(present, present - band, support, floor, margin, int(lead), untagged)
        value = _objective(evaluate(drafts, emb, th, split="dev", topics=topics))
        if best is None or value > best[0] + 1e-9:
            best = (value, th)
    assert best is not None
    return best[1], best[0]


# --------------------------------------------------------------------------------------------
# Hand-judged items
# --------------------------------------------------------------------------------------------

JUDGMENTS_FILE = DATA / "bla_judgments.json"


@dataclass(frozen=True, slots=True)
class Judgment:
    """One checklist item judged by reading a whole agreement (``bla_judgments.json``)."""

    doc_id: str
    item: str
    status: str  # "present" | "partial" | "absent"
    articles: tuple[str, ...]  # article labels as printed, most specific first


def load_judgments(path: Path = JUDGMENTS_FILE) -> list[Judgment]:
    """Return the hand judgments, ``[]`` when the file does not exist.

    Raises:
        ValueError: a judgment without doc_id/item or with an unknown status.
    """
    if not path.is_file():
        return []
    out = []
    for j in json.loads(path.read_text(encoding="utf-8"))["judgments"]:
        if j.get("status") not in {"present", "partial", "absent"} or not j.get("item"):
            raise ValueError(f"{path}: bad judgment {j!r}")
        out.append(Judgment(j["doc_id"], j["item"], j["status"], tuple(j.get("articles", ()))))
    return out


def score_judgments(
    drafts: Sequence[Draft],
    emb: CachedEmbedder,
    judgments: Sequence[Judgment],
    thresholds: Thresholds | None = None,
    topics: Mapping[str, TopicModel] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Score the engine against hand judgments on the full (nothing removed) drafts.

    Each judged document is checked as its original file ("headed") and as its heading-stripped
    full drafts ("stripped"). Found (present or partial) vs absent is scored as item accuracy and
    absent precision/recall; evidence precision@1 counts the first evidence clause right when its
    label is one of the judged articles.

    Returns:
        ``({"bla-judged/<condition>/<split>": metrics}, errors)``.
    """
    by_doc: dict[str, list[Judgment]] = defaultdict(list)
    for j in judgments:
        by_doc[j.doc_id].append(j)
    tallies: dict[str, Tally] = defaultdict(Tally)
    errors: list[dict[str, Any]] = []
    for d in drafts:
        if d.doc_id not in by_doc or d.removed or (d.fmt != "orig" and d.condition == "headed"):
            continue
        result = check_draft(d, emb, thresholds, topics)
        got = {r.item.id: r for r in result.items}
        for j in by_doc[d.doc_id]:
            r = got.get(j.item)
            if r is None:
                continue
            expected_absent = j.status == "absent"
            got_absent = r.status == "absent"
            ev_ok = None
            if not expected_absent and not got_absent and r.evidence:
                ev_ok = _fold(r.evidence[0].clause.label) in {_fold(a) for a in j.articles}
            for key in (
                f"{d.checklist}-judged/{d.condition}/{d.split}",
                f"{d.checklist}-judged/*/{d.split}",
                f"{d.checklist}-judged/*/all",
            ):
                tallies[key].count(expected_absent, got_absent, ev_ok)
            if expected_absent != got_absent or ev_ok is False:
                errors.append(
                    {
                        "doc_id": d.doc_id,
                        "split": d.split,
                        "format": d.fmt,
                        "condition": d.condition,
                        "item": j.item,
                        "judged": j.status,
                        "status": r.status,
                        "evidence": r.evidence[0].clause.citation if r.evidence else "",
                        "judged_articles": list(j.articles),
                        "reason": r.reason,
                    }
                )
    return {k: t.metrics() for k, t in tallies.items()}, errors


def _table(rows: dict[str, dict[str, Any]]) -> str:
    cols = ("items", "accuracy", "absent_precision", "absent_recall", "evidence_p1")
    out = [f"{'checklist/lang/headings/split':32} " + " ".join(f"{c:>16}" for c in cols)]
    for key, m in sorted(rows.items()):
        cells = " ".join(f"{'-' if m[c] is None else m[c]!s:>16}" for c in cols)
        out.append(f"{key:32} {cells}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        parser.error(f"{args.corpus}: no manifest.csv")

    from migralex.ui import service

    model = _model_name(args.store, args.model)
    emb = CachedEmbedder(service.embedder_factory(model, 2)())
    vector_cache = args.cache.with_suffix(".vectors.pkl") if args.cache is not None else None
    if vector_cache is not None and vector_cache.is_file():
        with vector_cache.open("rb") as fh:
            emb.load(pickle.load(fh))  # noqa: S301 - our own cache file
    t0 = time.perf_counter()
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    drafts = _drafts(args.corpus, emb, kinds, args.cache, args.limit)
    wanted = {CHECKLIST_OF_KIND[k] for k in kinds if k in CHECKLIST_OF_KIND}
    drafts = [d for d in drafts if d.checklist in wanted]
    _log(f"{len(drafts)} drafts in {time.perf_counter() - t0:.0f} s")
    _log(f"{regold(drafts, load_topics())} drafts with expectations from the current topic file")

    topics = {} if args.no_topic_model else train_topic_models(drafts, emb, model)
    for name, tm in topics.items():
        _log(f"topic model {name} trained on dev: {tm.examples}")
    calibration: dict[str, Any] | None = None
    if args.calibrate:
        th, value = calibrate(drafts, emb, topics)
        calibration = {"model": model, "best": th.__repr__(), "dev_objective": round(value, 4)}
        _log(f"calibrated on dev: {th} (objective {value:.4f})")
    else:
        th = thresholds_for(model)
    tallies = evaluate(drafts, emb, th, keep_errors=True, topics=topics)
    rows = {"/".join(k): t.metrics() for k, t in tallies.items()}
    judged_rows, judged_errors = score_judgments(drafts, emb, load_judgments(), th, topics)
    rows.update(judged_rows)
    print(f"model {model}; {len(drafts)} drafts; thresholds {th}")
    print(_table(rows))
    errors = [e for t in tallies.values() for e in t.errors] + judged_errors
    shown = [e for e in errors if args.error_split in ("all", e["split"])]
    for e in shown[: args.errors]:
        print(json.dumps(e, ensure_ascii=False))
    if vector_cache is not None:
        with vector_cache.open("wb") as fh:
            pickle.dump(emb.dump(), fh)
    if args.json:
        report = {
            "model": model,
            "thresholds": th.__repr__(),
            "targets": _TARGETS,
            "drafts": len(drafts),
            "results": rows,
            "calibration": calibration,
            "errors": errors,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def _parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m migralex.evaluation.checklist", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--store", type=Path, default=None, help="store whose model to use")
    parser.add_argument("--model", default=None, help="embedding model (default: the store's)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--calibrate", action="store_true", help="grid-search thresholds on dev")
    parser.add_argument(
        "--no-topic-model",
        action="store_true",
        help="decide heading-less articles without the topic classifier (trained on dev)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="first N documents per kind and language"
    )
    parser.add_argument("--errors", type=int, default=40, help="errors to print")
    parser.add_argument(
        "--error-split",
        choices=("dev", "test", "all"),
        default="dev",
        help="split whose errors are printed (default dev: rules are written from dev errors "
        "only; the JSON report holds all)",
    )
    parser.add_argument(
        "--kinds", default="ssa,bla", help="document kinds to draft, comma-separated"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="pickle of the drafts: read when it exists, else written (engine-only reruns)",
    )
    return parser


def _log(msg: str) -> None:
    """A progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def _model_name(store_path: Path | None, model: str | None) -> str:
    """The embedding model: ``model`` or the store's (:func:`service.model_for`), else the
    configured one."""
    from migralex.index.embedders import canonical_model_name
    from migralex.ui import service

    if store_path is not None:
        store = service.open_store(store_path)
        name = service.model_for(store, model)
        store.close()
        return name
    return canonical_model_name(model or service.settings().model)


def _drafts(
    corpus: Path,
    emb: CachedEmbedder,
    kinds: tuple[str, ...],
    cache: Path | None,
    limit: int | None,
) -> list[Draft]:
    """The drafts of ``kinds``: read from the ``cache`` pickle when it exists, else built from
    the corpus (and written to ``cache`` when one is named)."""
    if cache is not None and cache.is_file():
        with cache.open("rb") as fh:
            drafts = pickle.load(fh)  # noqa: S301 - our own cache file
        for d in drafts:  # caches written before heading-stripped drafts existed
            if not hasattr(d, "condition"):
                d.condition = "headed"
        return list(drafts)
    with tempfile.TemporaryDirectory(prefix="migralex-checklist-") as tmp:
        built = build_drafts(corpus, emb, Path(tmp), kinds=kinds, log=_log, limit=limit)
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump(built, fh)
    return built


if __name__ == "__main__":
    raise SystemExit(main())
