"""migralex.evaluation."""
