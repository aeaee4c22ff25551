"""Reading and validating the sources: YAML with positions, texts, hospital profile."""
