"""Schema migrations: Alembic's revisions, run through taskkit's engine.

One concept a module:

* ``revisions``: the revisions taskkit ships (where the scripts live, their history, running
  Alembic on a connection);
* ``transaction``: the one transaction a migration command runs in;
* ``drift``: how a database's schema differs from the models;
* ``commands``: upgrade, downgrade, stamp, current, check, ensure_schema (``taskkit db``).

The names below are what other modules (the CLI, the report, notebooks) use.
"""

from taskkit._migrate.commands import (
    check,
    current,
    downgrade,
    ensure_schema,
    stamp,
    upgrade,
)
from taskkit._migrate.revisions import VERSION_TABLE, RevisionInfo, history
from taskkit._migrate.transaction import migration_transaction

__all__ = [
    "VERSION_TABLE",
    "RevisionInfo",
    "check",
    "current",
    "downgrade",
    "ensure_schema",
    "history",
    "migration_transaction",
    "stamp",
    "upgrade",
]
