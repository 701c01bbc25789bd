"""migralex.index."""
