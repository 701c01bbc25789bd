"""migralex.nlp."""
