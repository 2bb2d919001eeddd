"""Schema migrations: Alembic's revisions, run through taskkit's engine.

One concept a module:

* ``revisions``: the revisions taskkit ships (where the scripts live, their history, running
  Alembic on a connection);
* ``transaction``: the one transaction a migration command runs in;
* ``drift``: how a database's schema differs from the models;
* ``commands``: upgrade_schema, downgrade_schema, stamp_schema, schema_revision, check_schema,
  ensure_schema (``taskkit db``; public as ``taskkit.<name>``).

The names below are what other modules (the CLI, the report, notebooks) use.
"""

from taskkit._migrate.commands import (
    check_schema,
    connection_revision,
    downgrade_schema,
    ensure_schema,
    schema_revision,
    stamp_schema,
    upgrade_schema,
)
from taskkit._migrate.revisions import VERSION_TABLE, RevisionInfo, schema_history
from taskkit._migrate.transaction import migration_transaction

__all__ = [
    "VERSION_TABLE",
    "RevisionInfo",
    "check_schema",
    "connection_revision",
    "downgrade_schema",
    "ensure_schema",
    "migration_transaction",
    "schema_history",
    "schema_revision",
    "stamp_schema",
    "upgrade_schema",
]
