"""Weak training data for the trained ranker, mined from a store's own structure.

The agreements supervise themselves: an article's heading says what its body is about, a
division heading ("Totalisation of periods") names the articles under it, a checklist cue or an
ILO term of art describes the articles its rule tag or heading topic marks, and a treaty printed
in two languages gives the same article twice. Each source yields :class:`TrainingGroup` s: a
query, one positive passage and hard negatives.

Sources (:data:`SOURCES`):

* ``heading`` — article heading -> the article's body (heading masked: it is the query).
* ``division`` — innermost enclosing division heading -> one of its articles (masked).
* ``cue`` — checklist question or cue (``nlp/checklists/*.yaml``) -> an article whose heading
  names the item's topic (:func:`~migralex.nlp.checklist.structural_topics`) or that carries
  one of the item's tags.
* ``term`` — a wording of an ILO concept (:data:`~migralex.index.lexical.ILO_TERMS`) -> an
  article carrying the concept's tag (:data:`TERM_TAGS`), the matched rule span as evidence.
* ``crosslingual`` — the opening of an article in one language -> the same article (same
  document, same structural path) in another language, languages told by
  :func:`~migralex.nlp.language.detect_language` on the clause texts.

Hard negatives (:func:`mine_groups`): the BM25 top of the query and the nearest stored vectors of
the positive, kept only when they belong to another topic (no shared heading topic or rule tag,
another heading), then random clauses of other documents. Headings are masked from the passage
side of every ``cue`` and ``term`` group with probability :data:`MASK_HEADING` (the model must
learn from bodies, not memorise headings); the negatives are masked alike, so masking tells
nothing.

Nothing here reads ``evaluation/data``: the benchmark's questions, topics, qrels and judgments
never enter training (a test checks that this module's source names none of them).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from migralex.corpus.models import Clause
from migralex.corpus.store import Filters, Store

#: The sources of training groups, in mining order.
SOURCES = ("heading", "division", "cue", "term", "crosslingual")
#: Characters of a clause a ranker passage keeps (about 128 word pieces of MiniLM's window
#: after the query; longer passages are cut by the tokenizer anyway).
PASSAGE_CHARS = 700
#: Characters of an article's opening used as the query of a cross-lingual group.
OPENING_CHARS = 240
#: Probability that a ``cue``/``term`` group shows its passages without their headings.
MASK_HEADING = 0.5
#: Hard negatives per group.
NEGATIVES = 3
#: Depth of the BM25 and vector candidate lists negatives are drawn from.
NEGATIVE_POOL = 30
#: Most positives per cue or term wording (the tagged articles of a frequent tag number
#: hundreds; a few per wording keep the sources balanced).
PER_QUERY = 4
#: The tag each ILO concept of :data:`~migralex.index.lexical.ILO_TERMS` marks (concepts without
#: a tag of their own are left out).
TERM_TAGS: dict[str, str] = {
    "totalisation": "totalisation",
    "export": "export_of_benefits",
    "equality": "equality_of_treatment",
    "data_protection": "data_protection",
    "disputes": "dispute_settlement",
    "claims": "claims_and_appeals",
    "mutual_assistance": "administrative_assistance",
    "employment_injury": "branch_employment_injury",
    "family": "branch_family",
    "unemployment": "branch_unemployment",
    "remittances": "remittances",
}
#: Headings that name no topic (a label repeated, a one-word formula).
_GENERIC = re.compile(
    r"^(article|artikel|articulo|artículo|section|paragraph|chapter|part|annex|"
    r"preamble|préambule|preambulo|[ivxlc\d. ]+)$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class TrainingGroup:
    """One training example: a query, its positive passage and hard negatives.

    Attributes:
        query: the query text.
        positive: the passage that answers it (:func:`ranker_passage`).
        negatives: passages of other topics, hardest first.
        source: one of :data:`SOURCES`.
        doc_id: the document of the positive.
    """

    query: str
    positive: str
    negatives: tuple[str, ...]
    source: str
    doc_id: str


def ranker_passage(clause: Clause, mask_heading: bool = False) -> str:
    """The passage a ranker reads for a clause: innermost division heading, heading, then the
    body (:func:`clause_body`), cut to :data:`PASSAGE_CHARS` characters.

    Args:
        clause: the clause.
        mask_heading: the body alone, without any heading (training only).
    """
    body = clause_body(clause)
    parts = [body] if mask_heading else [
        clause.context[-1] if clause.context else "", clause.heading, body
    ]  # fmt: skip
    return "\n".join(p.strip() for p in parts if p.strip())[:PASSAGE_CHARS]


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def topical_heading(clause: Clause) -> str:
    """The clause heading when it names a topic, else "": at least 3 letters, not a bare
    label, at most 12 words, and not the first words of a sentence the segmenter left as a
    heading (the text goes on after it in lower case)."""
    heading = clause.heading.strip()
    folded = _fold(heading)
    if len(folded) < 3 or _GENERIC.match(folded) or folded == _fold(clause.label):
        return ""
    if len(folded.split()) > 12:
        return ""
    at = clause.text.find(heading)
    after = clause.text[at + len(heading) :].lstrip(" \t\n") if at >= 0 else ""
    if at >= 0 and after[:1].islower():
        return ""  # a wrapped first sentence, not a heading
    return heading


def clause_body(clause: Clause) -> str:
    """The clause text without the label and heading lines it starts with (the heading only
    when :func:`topical_heading` takes it for one)."""
    head = _fold(f"{clause.label} {topical_heading(clause)}")
    lines = clause.text.strip().split("\n")
    while len(lines) > 1 and len(lines[0]) < 120 and _fold(lines[0]) and _fold(lines[0]) in head:
        lines.pop(0)
    return "\n".join(lines).strip()


@dataclass(frozen=True, slots=True)
class _Info:
    rowid: int
    clause: Clause
    topics: frozenset[str]
    tags: frozenset[str]
    heading: str

    @property
    def labels(self) -> frozenset[str]:
        return self.topics | {t for t in self.tags if not t.startswith("branch_")}


def _infos(store: Store, exclude_docs: Collection[str]) -> dict[int, _Info]:
    from migralex.nlp.checklist import structural_topics

    allowed = store.filter_rowids(Filters(exclude_doc_ids=("\x00", *sorted(exclude_docs))))
    rowids = [] if allowed is None else [int(r) for r in allowed]
    clauses = store.clauses_by_rowid(rowids)
    tags = store.tag_names_by_rowid(rowids)
    return {
        rid: _Info(
            rid, c, structural_topics(c), frozenset(tags.get(rid, ())), _fold(topical_heading(c))
        )
        for rid, c in sorted(clauses.items())
    }


def _other_topic(pos: _Info, cand: _Info, target: Collection[str] = ()) -> bool:
    """True when ``cand`` is safely about something else than ``pos`` (and ``target``)."""
    if cand.rowid == pos.rowid or (pos.heading and cand.heading == pos.heading):
        return False
    if cand.clause.doc_id == pos.clause.doc_id and cand.clause.path == pos.clause.path:
        return False  # another language version or paragraph of the same article
    known = cand.labels
    if not known:
        return False  # nothing says what it is about: it may answer too
    return not (known & (pos.labels | set(target)))


def mine_groups(
    store: Store,
    *,
    seed: int = 0,
    exclude_docs: Collection[str] = (),
    negatives: int = NEGATIVES,
    sources: Sequence[str] = SOURCES,
    lexical: Callable[[str, int], list[tuple[int, float]]] | None = None,
    neighbours: Callable[[int, int], list[tuple[int, float]]] | None = None,
) -> list[TrainingGroup]:
    """Mine training groups from a store (deterministic for a given store and seed).

    Args:
        store: the store (read only).
        seed: seed of every random choice (masking, sampling, random negatives).
        exclude_docs: documents left out entirely (no query, positive or negative from them):
            the document-level hold-out of the benchmark.
        negatives: negatives per group; a group with fewer candidates is filled with random
            clauses of other topics and dropped when even those run out.
        sources: which of :data:`SOURCES` to mine.
        lexical: ``(query, k) -> [(rowid, score)]`` BM25 candidates (default: the store's
            :class:`~migralex.index.lexical.LexicalIndex`).
        neighbours: ``(rowid, k) -> [(rowid, score)]`` nearest stored vectors of a clause
            (default: the store's main FAISS index; none when the store has no vectors).

    Returns:
        Groups in source order, each source's groups in store order.

    Raises:
        ValidationError: an unknown source.
    """
    from migralex.corpus.errors import ValidationError

    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValidationError(f"unknown pair sources {unknown}; valid: {', '.join(SOURCES)}")
    infos = _infos(store, set(exclude_docs))
    if lexical is None or neighbours is None:
        lexical, neighbours = _default_candidates(store, set(exclude_docs), lexical, neighbours)
    miner = _Miner(infos, random.Random(seed), negatives, lexical, neighbours)
    for source in sources:
        _MINERS.get(source, _mine_crosslingual)(miner, source)
    return miner.groups


@dataclass(slots=True)
class _Miner:
    """Turns (query, positive) pairs into training groups with mined negatives; one random
    generator for every choice, so a seed gives the same groups."""

    infos: dict[int, _Info]
    rng: random.Random
    negatives: int
    lexical: Callable[[str, int], list[tuple[int, float]]]
    neighbours: Callable[[int, int], list[tuple[int, float]]]
    groups: list[TrainingGroup] = field(default_factory=list)
    pool: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.pool = sorted(self.infos)

    def add(
        self, query: str, pos: _Info, source: str, mask: bool, target: Collection[str] = ()
    ) -> None:
        """Add a group for ``query`` and ``pos`` unless fewer than ``negatives`` clauses of
        other topics are found for it."""
        chosen = self._hard_negatives(query, pos, target)
        self._fill_random(chosen, pos, target)
        if len(chosen) < self.negatives:
            return
        self.groups.append(
            TrainingGroup(
                query=" ".join(query.split()),
                positive=ranker_passage(pos.clause, mask),
                negatives=tuple(ranker_passage(self.infos[r].clause, mask) for r in chosen),
                source=source,
                doc_id=pos.clause.doc_id,
            )
        )

    def _hard_negatives(self, query: str, pos: _Info, target: Collection[str]) -> list[int]:
        """Up to ``negatives`` rowids of other topics among the BM25 hits of ``query`` and the
        vector neighbours of ``pos``, in that order."""
        cands = [r for r, _ in self.lexical(query, NEGATIVE_POOL)]
        cands += [r for r, _ in self.neighbours(pos.rowid, NEGATIVE_POOL)]
        chosen: list[int] = []
        for rid in dict.fromkeys(cands):
            info = self.infos.get(rid)
            if info is not None and _other_topic(pos, info, target):
                chosen.append(rid)
            if len(chosen) == self.negatives:
                break
        return chosen

    def _fill_random(self, chosen: list[int], pos: _Info, target: Collection[str]) -> None:
        """Top ``chosen`` up to ``negatives`` with random clauses of other documents and
        topics, in at most 50 draws."""
        tries = 0
        while len(chosen) < self.negatives and tries < 50 and self.pool:
            tries += 1
            info = self.infos[self.rng.choice(self.pool)]
            if info.rowid not in chosen and info.clause.doc_id != pos.clause.doc_id:
                if _other_topic(pos, info, target):
                    chosen.append(info.rowid)


def _mine_headings(miner: _Miner, source: str) -> None:
    """Query: a clause's topical heading; positive: the clause, its heading masked."""
    for info in miner.infos.values():
        if info.heading:
            miner.add(topical_heading(info.clause), info, source, True)


def _mine_divisions(miner: _Miner, source: str) -> None:
    """Query: the heading of the division or group a clause sits in (not a generic one)."""
    for info in miner.infos.values():
        division = info.clause.context[-1].strip() if info.clause.context else ""
        if len(_fold(division)) >= 3 and not _GENERIC.match(_fold(division)):
            miner.add(division, info, source, True)


def _mine_checklist_cues(miner: _Miner, source: str) -> None:
    """Query: a checklist item's question or cue; positive: a clause on its topic."""
    _mine_cues(miner.infos, miner.rng, lambda q, p, m, t: miner.add(q, p, "cue", m, t))


def _mine_ilo_terms(miner: _Miner, source: str) -> None:
    """Query: an ILO thesaurus term; positive: a clause carrying its tag."""
    _mine_terms(miner.infos, miner.rng, lambda q, p, m, t: miner.add(q, p, "term", m, t))


def _mine_crosslingual(miner: _Miner, source: str) -> None:
    """Query: the opening of one language version of an article; positive: the other."""
    for query, pos in _crosslingual(miner.infos):
        miner.add(query, pos, source, True)


#: The miner of each source of :data:`SOURCES` but the last (``crosslingual``).
_MINERS: dict[str, Callable[[_Miner, str], None]] = {
    "heading": _mine_headings,
    "division": _mine_divisions,
    "cue": _mine_checklist_cues,
    "term": _mine_ilo_terms,
}


def _mine_cues(
    infos: dict[int, _Info],
    rng: random.Random,
    add: Callable[[str, _Info, bool, Collection[str]], None],
) -> None:
    from migralex.nlp.checklist import list_checklists

    for checklist in list_checklists():
        for item in checklist.items:
            topic = item.id.split(".", 1)[1]
            by_topic = [i for i in infos.values() if topic in i.topics]
            # Articles whose heading names the topic; only without them those carrying the
            # item's tags (a tag also fires on a passing mention in another article).
            hits = by_topic or [i for i in infos.values() if set(item.tags) & i.tags]
            if not hits:
                continue
            target = {topic, *item.tags}
            for query in (item.question, *item.cues):
                for pos in rng.sample(hits, min(PER_QUERY, len(hits))):
                    add(query, pos, rng.random() < MASK_HEADING, target)


def _mine_terms(
    infos: dict[int, _Info],
    rng: random.Random,
    add: Callable[[str, _Info, bool, Collection[str]], None],
) -> None:
    from migralex.index.lexical import ILO_TERMS, ILO_TERMS_ES

    for concept, tag in TERM_TAGS.items():
        hits = [i for i in infos.values() if tag in i.tags]
        if not hits:
            continue
        for query in (*ILO_TERMS.get(concept, ()), *ILO_TERMS_ES.get(concept, ())):
            for pos in rng.sample(hits, min(PER_QUERY // 2, len(hits))):
                add(query, pos, rng.random() < MASK_HEADING, {tag})


def _crosslingual(infos: dict[int, _Info]) -> Iterable[tuple[str, _Info]]:
    """``(opening of one version, clause of the other version)`` for every article printed
    in two languages in one document (same structural path)."""
    from migralex.nlp.language import detect_language

    by_path: dict[tuple[str, tuple[str, ...]], list[_Info]] = {}
    for info in infos.values():
        by_path.setdefault((info.clause.doc_id, info.clause.path), []).append(info)
    for versions in by_path.values():
        if len(versions) < 2:
            continue
        langs = {v.rowid: detect_language(v.clause.text[:1000]) for v in versions}
        seen: set[tuple[str, str]] = set()
        for a in versions:
            for b in versions:
                pair = (langs[a.rowid], langs[b.rowid])
                if pair[0] == pair[1] or pair in seen:
                    continue
                seen.add(pair)
                body = clause_body(a.clause)
                if len(body) >= 40:
                    yield body[:OPENING_CHARS], b


def _default_candidates(
    store: Store,
    exclude: set[str],
    lexical: Callable[[str, int], list[tuple[int, float]]] | None,
    neighbours: Callable[[int, int], list[tuple[int, float]]] | None,
) -> tuple[
    Callable[[str, int], list[tuple[int, float]]], Callable[[int, int], list[tuple[int, float]]]
]:
    from migralex.index.lexical import LexicalIndex
    from migralex.index.vectors import VectorIndex

    allowed = store.filter_rowids(Filters(exclude_doc_ids=("\x00", *sorted(exclude))))
    if lexical is None:
        index = LexicalIndex(store)

        def lexical(query: str, k: int) -> list[tuple[int, float]]:
            return index.search(query, k, allowed)

    if neighbours is None:
        if store.count_vectors():
            vectors = VectorIndex(store)

            def neighbours(rowid: int, k: int) -> list[tuple[int, float]]:
                return vectors.search(vectors.reconstruct(rowid), k + 1, allowed)

        else:

            def neighbours(rowid: int, k: int) -> list[tuple[int, float]]:
                return []

    return lexical, neighbours


def groups_sha256(groups: Sequence[TrainingGroup]) -> str:
    """sha256 of the groups as canonical JSON (their order counts): the training data's id in
    the model card."""
    payload = json.dumps(
        [[g.query, g.positive, list(g.negatives), g.source, g.doc_id] for g in groups],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def source_counts(groups: Iterable[TrainingGroup]) -> dict[str, int]:
    """Number of groups per source, every source of :data:`SOURCES` listed."""
    counts = dict.fromkeys(SOURCES, 0)
    for g in groups:
        counts[g.source] += 1
    return counts
