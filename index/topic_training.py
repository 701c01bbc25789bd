"""Training the checklist's topic models (:mod:`migralex.nlp.checklist.topics`) from a store.

The topic model itself (weights, probabilities, labels read from headings) is pure ``nlp``; what
needs an embedder lives here, in ``index/``: the passage each article body is embedded as, and
the loop that reads a store's headed articles, embeds their bodies and fits one model per
checklist. ``migralex train-topics --store STORE`` (or ``python -m
migralex.index.topic_training``) retrains the models that ship in
``nlp/checklist/topic_models/``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from migralex.corpus.errors import ValidationError
from migralex.corpus.models import Clause
from migralex.index.embedders import get_embedder, passage_text
from migralex.nlp.checklist.topics import MODELS_DIR, TopicModel, body_text, train, training_data

#: The document kinds whose articles teach each checklist.
KINDS = {"ssa": ("ssa",), "bla": ("bla",), "law": ("law",)}


def body_passages(clauses: Iterable[Clause]) -> list[str]:
    """What the topic model reads for each clause: the passage a heading-less draft embeds
    (:func:`~migralex.nlp.checklist.topics.body_text`, no division heading)."""
    return [passage_text("", body_text(c)) for c in clauses]


def train_from_store(
    store_root: Path,
    checklist_name: str,
    embed: Callable[[list[str]], np.ndarray],
    model: str,
    exclude_docs: Sequence[str] = (),
) -> TopicModel:
    """Train the topic model of ``checklist_name`` from the headed articles of a store's
    agreements of the matching kind (:data:`KINDS`), their bodies embedded with ``embed``
    (the passages of the heading-less draft: :func:`body_passages`).

    Args:
        store_root: an ingested store's folder.
        checklist_name: ``ssa``, ``bla`` or ``law``.
        embed: passages -> float32 ``(n, dim)`` vectors.
        model: embedding model name recorded in the model.
        exclude_docs: document ids left out (a hold-out).

    Raises:
        ValidationError: too few labelled articles (fewer than two classes).
        StoreError: the store cannot be opened.
    """
    from migralex.corpus.store import Filters, Store
    from migralex.nlp.checklist.loader import load_checklist

    checklist = load_checklist(checklist_name)
    with Store(store_root) as st:
        allowed = st.filter_rowids(
            Filters(kinds=KINDS.get(checklist_name, ()), exclude_doc_ids=tuple(exclude_docs))
        )
        rows = [] if allowed is None else [int(r) for r in allowed]
        clauses = [c for _, c in sorted(st.clauses_by_rowid(rows).items())]
    chosen, labels = training_data(checklist, clauses)
    return train(checklist_name, model, embed(body_passages(chosen)), labels)


def train_shipped(
    store_root: Path,
    checklists: Sequence[str] = ("ssa", "bla"),
    model: str = "minilm",
    out: Path = MODELS_DIR,
) -> list[tuple[str, Path | None, str]]:
    """Retrain and save the topic models of ``checklists`` from a store.

    Returns:
        One ``(checklist, path or None, message)`` per checklist; ``None`` where the store's
        articles give too few classes (e.g. BLAs whose articles print no item headings).
    """
    emb = get_embedder(model, threads=2)
    out.mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, Path | None, str]] = []
    for name in checklists:
        try:
            tm = train_from_store(store_root, name, emb.embed_passages, model)
        except ValidationError as exc:
            results.append((name, None, f"no topic model ({exc})"))
            continue
        path = out / f"{name}.{model}.npz"
        tm.save(path)
        results.append(
            (name, path, f"{len(tm.classes)} classes, {sum(tm.examples.values())} articles")
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m migralex.index.topic_training --store STORE``: retrain the shipped models."""
    parser = argparse.ArgumentParser(prog="python -m migralex.index.topic_training")
    parser.add_argument("--store", type=Path, required=True, help="store built from the corpus")
    parser.add_argument("--checklist", action="append", help="checklist (default: ssa, bla)")
    parser.add_argument("--model", default="minilm", help="embedding model (default minilm)")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="output folder")
    args = parser.parse_args(argv)
    for name, path, message in train_shipped(
        args.store, args.checklist or ("ssa", "bla"), args.model, args.out
    ):
        print(f"{path or name}: {message}", file=sys.stdout if path else sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
