"""migralex.ingest."""
