"""Typed settings read from the environment (``MIGRALEX_`` prefix); unknown keys are refused."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from migralex.corpus.errors import ValidationError

DEFAULT_MODEL = "minilm"
#: The second vector set of a new store, for questions in languages the main model does not
#: read (``migralex.index.search``: query-language routing).
DEFAULT_MULTILINGUAL_MODEL = "e5-small"
ENV_PREFIX = "MIGRALEX_"
#: ``MIGRALEX_`` variables that are not settings: read by the test suite only (tests/conftest.py).
NOT_SETTINGS = frozenset({"MIGRALEX_TEST_MODEL"})


def default_store_dir() -> Path:
    """Return the per-user data folder used when neither ``--store`` nor MIGRALEX_STORE is set."""
    return Path(platformdirs.user_data_dir("migralex", appauthor=False)) / "store"


def default_cache_dir() -> Path:
    """Return the per-user cache folder used when MIGRALEX_CACHE_DIR is not set."""
    return Path(platformdirs.user_cache_dir("migralex", appauthor=False))


class Settings(BaseSettings):
    """migralex settings.

    Attributes:
        store: store folder (``MIGRALEX_STORE``).
        model: embedding model: ``minilm``, ``e5-small``, a sentence-transformers name or a
            path (``MIGRALEX_MODEL``).
        multilingual_model: model of a new store's second vector set, used for questions in
            languages an English-only main model does not read; ``none`` makes no second set
            (``MIGRALEX_MULTILINGUAL_MODEL``).
        threads: torch/FAISS threads for queries; 1 keeps p95 low on a busy 2-core machine.
        ingest_threads: torch threads for embedding at ingest (default: every core).
        batch_size: embedding batch size (16-32 measured fastest on 2 cores).
        max_file_mb: largest file read, in MiB (``MIGRALEX_MAX_FILE_MB``); larger files are
            refused before they are opened. Also the app's upload limit (Streamlit
            ``server.maxUploadSize``, set by ``migralex serve``).
        max_pages: most pages of a PDF (``MIGRALEX_MAX_PAGES``), checked before any page is
            read.
        max_document_chars: most characters of a document's text
            (``MIGRALEX_MAX_DOCUMENT_CHARS``); a text under it is tagged in pieces where it
            exceeds spaCy's ``max_length``.
        max_docx_mb: most uncompressed MiB of the XML parts of a DOCX
            (``MIGRALEX_MAX_DOCX_MB``), read from the zip directory before anything is
            decompressed (zip bombs).
        rerank_depth: candidates the store's trained ranker re-scores in hybrid and semantic
            search (``MIGRALEX_RERANK_DEPTH``, e.g. 20); 0, the default, leaves the ranker off:
            on the retrieval benchmark the ranker of ``migralex train-ranker`` did not beat the
            first stage (hybrid nDCG@10 test .712 -> .711) and cost about 2 s per English
            question on the busy 2-core machine (see ``migralex.index.ranker``).
        adapted: answer English questions from the store's domain-adapted vector set when it
            has one (``MIGRALEX_ADAPTED``; see ``migralex.index.encoder``).
        onnx_queries: ingest exports a MiniLM store's model to ONNX and search encodes its
            questions with it, without torch (``MIGRALEX_ONNX_QUERIES``; see
            ``migralex.index.onnx_query``).
        cache_dir: folder of derived files that are cheaper to read than to rebuild, such as
            the language-detection model restricted to the corpus languages
            (``MIGRALEX_CACHE_DIR``; read by ``migralex.nlp.language`` straight from the
            environment, so that ``tag`` need not build the settings first). Safe to delete.

    The limits' defaults leave wide room over the corpus (largest file 0.5 MB, longest text
    well under 1 million characters) and bound memory and time; see README "Limits".
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    store: Path = Field(default_factory=default_store_dir)
    model: str = DEFAULT_MODEL
    multilingual_model: str = DEFAULT_MULTILINGUAL_MODEL
    threads: int = 1
    ingest_threads: int = Field(default_factory=lambda: os.cpu_count() or 1)
    batch_size: int = 32
    max_file_mb: float = Field(default=32.0, gt=0)
    max_pages: int = Field(default=1_000, gt=0)
    max_document_chars: int = Field(default=5_000_000, gt=0)
    max_docx_mb: float = Field(default=100.0, gt=0)
    rerank_depth: int = Field(default=0, ge=0)
    adapted: bool = True
    onnx_queries: bool = True
    cache_dir: Path = Field(default_factory=default_cache_dir)

    def __init__(self, **values: Any) -> None:
        """Read the settings from ``MIGRALEX_*`` variables, with ``values`` taking precedence.

        Raises:
            ValidationError: a ``MIGRALEX_`` variable names no setting (a misspelt
                ``MIGRALEX_MODLE`` would otherwise be silently ignored); the message lists the
                valid names. pydantic's own ``ValidationError`` for a bad value.
        """
        unknown_environment_keys()
        super().__init__(**values)


def unknown_environment_keys(environ: Mapping[str, str] | None = None) -> None:
    """Refuse ``MIGRALEX_`` environment variables that are not settings.

    Args:
        environ: the environment to check (default ``os.environ``); names compare
            case-insensitively, as pydantic-settings reads them.

    Raises:
        ValidationError: naming the unknown variables and listing the valid ones.
    """
    env = os.environ if environ is None else environ
    valid = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    unknown = sorted(
        k
        for k in env
        if k.upper().startswith(ENV_PREFIX)
        and k.upper() not in valid
        and k.upper() not in NOT_SETTINGS
    )
    if unknown:
        raise ValidationError(
            f"unknown setting {', '.join(unknown)} in the environment;"
            f" valid: {', '.join(sorted(valid))}"
        )
