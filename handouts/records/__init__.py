"""Patient records: spreadsheet and YAML readers, field validation, the typed record."""
