"""bot package (built in later issues)."""
