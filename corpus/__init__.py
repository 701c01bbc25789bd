"""Data model, store and manifests of migralex."""

from migralex.corpus.errors import (
    MigralexError,
    ModelError,
    NotFoundError,
    ReadError,
    StoreError,
    ValidationError,
)
from migralex.corpus.models import KINDS, TAG_NAMES, Clause, Document, Hit, Tag, page_of, slugify

__all__ = [
    "KINDS",
    "TAG_NAMES",
    "Clause",
    "Document",
    "Hit",
    "MigralexError",
    "ModelError",
    "NotFoundError",
    "ReadError",
    "StoreError",
    "Tag",
    "ValidationError",
    "page_of",
    "slugify",
]
