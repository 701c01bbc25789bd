"""migralex.ui."""
