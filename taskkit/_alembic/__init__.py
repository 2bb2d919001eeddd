"""taskkit's Alembic environment and revisions (run them through ``taskkit._migrate``)."""
