"""The error hierarchy of migralex: one base class, a few kinds, messages that name the culprit.

Every message names the file, clause or setting at fault and, where there is a closed set of
valid values, lists them.
"""

from __future__ import annotations


class MigralexError(Exception):
    """Base class of every error migralex raises on purpose."""


class ValidationError(MigralexError, ValueError):
    """A value does not satisfy the data model (bad offsets, unknown kind, ...)."""


class ReadError(MigralexError):
    """A file cannot be read: unknown format, corrupt, encrypted, empty or without text.

    Attributes:
        path: the file at fault.
        reason: why, in words for the user.
    """

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class StoreError(MigralexError):
    """The store cannot be opened or written: locked, wrong model, wrong schema version."""


class ModelError(MigralexError):
    """An embedding model cannot be loaded or does not match the store."""


class NotFoundError(MigralexError, KeyError):
    """A document, clause or checklist id is not known."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that.
        return str(self.args[0]) if self.args else ""
