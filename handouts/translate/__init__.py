"""Translations against the French: status, the check command, exchange formats."""
