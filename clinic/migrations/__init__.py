"""The Alembic migrations of the clinic database (``alembic.ini`` points here)."""
