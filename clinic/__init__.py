"""The clinic core: the scheduling database, its rules and use cases."""
