"""notifier package (built in later issues)."""
