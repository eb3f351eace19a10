"""The clinic database's revisions, one module each, applied in order."""
