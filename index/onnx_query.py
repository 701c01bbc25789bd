"""A torch-free query encoder for all-MiniLM-L6-v2: the model exported once to ONNX into the
store folder, run with ONNX Runtime and the ``tokenizers`` library.

Importing torch and sentence-transformers costs about 6 s per cold process, more than a whole
warm search; a cold ``migralex search`` pays it for one query vector. So ingest (which has torch
loaded anyway) exports the main model's transformer to ``STORE/onnx/minilm.onnx``
(:func:`export_minilm`, TorchScript exporter, opset 17), checks that ONNX Runtime gives the same
query vectors as sentence-transformers on probe sentences (max abs difference below
:data:`TOLERANCE`, else nothing is kept), and records the weights' sha256 in a card. Search then
encodes its questions with :class:`OnnxQueryEmbedder`: word pieces from the model's own
``tokenizer.json`` (``tokenizers``, truncated to the model's 256-piece window), the
transformer's last hidden state, mean pooling over the attention mask and L2 normalisation —
the pipeline of the model's ``modules.json`` (Transformer, Pooling(mean), Normalize). Passages
are still embedded by sentence-transformers at ingest; a store without the export, or whose
export was made from other weights, searches with sentence-transformers as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.errors import ModelError

#: Folder of the export inside a store, and its files.
ONNX_DIR = "onnx"
MODEL_FILE = "minilm.onnx"
CARD_FILE = "minilm.json"
#: Largest absolute difference allowed between ONNX Runtime's and sentence-transformers' query
#: vectors of the probe sentences (unit vectors; float32 noise is about 1e-7).
TOLERANCE = 1e-4
#: The model's window in word pieces (``sentence_bert_config.json``: ``max_seq_length``).
MAX_PIECES = 256
PROBES = (
    "can a pensioner who moves abroad keep the pension?",
    "Periods of insurance completed under the legislation of both Parties shall be totalised.",
    "égalité de traitement",
)


def _weights_file(model_dir: Path) -> Path:
    """The model's weights file (``model.safetensors``, else ``pytorch_model.bin``).

    Raises:
        ModelError: neither file is there.
    """
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (model_dir / name).is_file():
            return model_dir / name
    raise ModelError(f"{model_dir}: no model weights to export")


def weights_sha256(model_dir: Path) -> str:
    """sha256 of the model's weights file (90 MB for MiniLM: about 0.2 s).

    Raises:
        ModelError: no weights file.
    """
    h = hashlib.sha256()
    with _weights_file(model_dir).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _weights_stamp(model_dir: Path) -> list[int]:
    """Size and modification time (ns) of the weights file: what a cold search compares
    before it would hash 90 MB."""
    st = _weights_file(model_dir).stat()
    return [st.st_size, st.st_mtime_ns]


def export_minilm(model_dir: Path, store_root: Path) -> Path | None:
    """Export the transformer of the sentence-transformers model in ``model_dir`` to
    ``store_root/onnx/minilm.onnx`` (with its card) unless an export of the same weights is
    there; check it against sentence-transformers on :data:`PROBES`.

    Returns:
        The ONNX file, or None when the check failed (nothing is left behind).

    Raises:
        ModelError: the weights cannot be read or exported.
    """
    out = store_root / ONNX_DIR
    if current_export(model_dir, store_root) is not None:
        card = json.loads((out / CARD_FILE).read_text(encoding="utf-8"))
        if card.get("weights_stamp") != _weights_stamp(model_dir):  # older card, or touched
            card["weights_stamp"] = _weights_stamp(model_dir)
            (out / CARD_FILE).write_text(json.dumps(card, indent=1), encoding="utf-8")
        return out / MODEL_FILE
    import torch
    from sentence_transformers import SentenceTransformer

    out.mkdir(parents=True, exist_ok=True)
    st = SentenceTransformer(str(model_dir), device="cpu")
    bert: Any = st[0].auto_model
    bert.eval()

    class _LastHidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    tok = st.tokenizer(list(PROBES[:2]), padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tmp = out / (MODEL_FILE + ".tmp")
    try:
        with torch.no_grad():
            torch.onnx.export(
                _LastHidden(bert), tuple(tok[n] for n in names), str(tmp),
                input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "pieces"} for n in [*names, "last_hidden_state"]},
                opset_version=17, dynamo=False,
            )  # fmt: skip
        expected = st.encode(list(PROBES), normalize_embeddings=True, convert_to_numpy=True)
        got = OnnxQueryEmbedder(tmp, model_dir).embed_queries(PROBES)
        if float(np.abs(got - expected).max()) > TOLERANCE:
            tmp.unlink(missing_ok=True)
            return None
    except Exception as exc:  # noqa: BLE001 - any exporter failure means no export
        tmp.unlink(missing_ok=True)
        raise ModelError(f"cannot export {model_dir} to ONNX ({exc})") from exc
    tmp.replace(out / MODEL_FILE)
    card = {
        "model": "minilm",
        "weights_sha256": weights_sha256(model_dir),
        "weights_stamp": _weights_stamp(model_dir),
        "opset": 17,
    }
    (out / CARD_FILE).write_text(json.dumps(card, indent=1), encoding="utf-8")
    return out / MODEL_FILE


def current_export(model_dir: Path, store_root: Path) -> Path | None:
    """The store's ONNX export when it was made from the weights in ``model_dir``, else None:
    the weights file's size and modification time as recorded, else its sha256 (an installed
    copy of the same weights, touched or reinstalled)."""
    out = store_root / ONNX_DIR
    try:
        card = json.loads((out / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (out / MODEL_FILE).is_file():
        return None
    try:
        same = card.get("weights_stamp") == _weights_stamp(model_dir) or card.get(
            "weights_sha256"
        ) == weights_sha256(model_dir)
    except (ModelError, OSError):
        return None
    return out / MODEL_FILE if same else None


class OnnxQueryEmbedder:
    """all-MiniLM-L6-v2 queries through ONNX Runtime (no torch), vectors as sentence-transformers
    gives them (float32 ``(n, 384)``, L2-normalised; see the module docstring).

    Args:
        onnx_file: the export (:func:`export_minilm`).
        model_dir: the model folder (its ``tokenizer.json``).
        name: the name of the vector set it queries.
        threads: ONNX Runtime intra-op threads.

    The session loads in :meth:`warm_up` (or at the first embedding).
    """

    def __init__(
        self, onnx_file: Path, model_dir: Path, name: str = "minilm", threads: int = 1
    ) -> None:
        self.onnx_file = Path(onnx_file)
        self.model_dir = Path(model_dir)
        self.name = name
        self.threads = max(1, threads)
        self.dimension = 384
        self._session: Any = None
        self._tokenizer: Any = None

    def warm_up(self) -> None:
        """Load the tokenizer and the ONNX session.

        Raises:
            ModelError: either cannot be loaded.
        """
        if self._session is not None:
            return
        try:
            import onnxruntime
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_PIECES)
            tokenizer.enable_padding()
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                str(self.onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - a broken export means the same to the user
            raise ModelError(
                f"cannot load the ONNX query encoder {self.onnx_file} ({exc})"
            ) from exc
        self._tokenizer, self._session = tokenizer, session

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 ``(len(texts), 384)`` unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        self.warm_up()
        encoded = self._tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encoded], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], np.int64),
        }
        hidden = self._session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """The same encoding (the model has no query/passage prefixes)."""
        return self.embed_queries(texts)
