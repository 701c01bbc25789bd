"""Data model, store and manifests of migralex."""

from migralex.corpus.checklist_models import (
    STATUSES,
    Checklist,
    ChecklistItem,
    ChecklistResult,
    Evidence,
    ItemResult,
    PartialRule,
    Status,
)
from migralex.corpus.errors import (
    MigralexError,
    ModelError,
    NotFoundError,
    ReadError,
    StoreError,
    ValidationError,
)
from migralex.corpus.models import (
    KINDS,
    TAG_NAMES,
    Clause,
    Document,
    Hit,
    Paragraph,
    Tag,
    page_of,
    slugify,
)

__all__ = [
    "KINDS",
    "STATUSES",
    "TAG_NAMES",
    "Checklist",
    "ChecklistItem",
    "ChecklistResult",
    "Clause",
    "Document",
    "Evidence",
    "Hit",
    "ItemResult",
    "MigralexError",
    "ModelError",
    "NotFoundError",
    "Paragraph",
    "PartialRule",
    "ReadError",
    "Status",
    "StoreError",
    "Tag",
    "ValidationError",
    "page_of",
    "slugify",
]
