"""migralex: clause search, tags and checklists over labour migration and social security law."""

__version__ = "0.1.0"
