"""Schema migrations: Alembic's revisions, run through taskkit's engine.

One concept a module:

* ``known``: the revisions' ids and the head, read without Alembic;
* ``revisions``: the revisions taskkit ships (where the scripts live, their history, running
  Alembic on a connection);
* ``transaction``: the one transaction a migration command runs in;
* ``drift``: how a database's schema differs from the models;
* ``commands``: upgrade_schema, downgrade_schema, stamp_schema, schema_revision, check_schema
  (``taskkit db``; public as ``taskkit.<name>``), connection_revision;
* ``ensure`` and ``sqlite_head``: ensure_schema, which needs no Alembic for a database at
  head or an empty SQLite database (the head schema, written by ``snapshot``).

The names below are what other modules (the CLI, the report, notebooks) use. They load on
first use: importing this package does not import Alembic.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskkit._migrate.commands import (
        check_schema,
        connection_revision,
        downgrade_schema,
        schema_revision,
        stamp_schema,
        upgrade_schema,
    )
    from taskkit._migrate.ensure import ensure_schema
    from taskkit._migrate.known import VERSION_TABLE
    from taskkit._migrate.revisions import RevisionInfo, schema_history
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

_WHERE = {
    "VERSION_TABLE": "known",
    "RevisionInfo": "revisions",
    "check_schema": "commands",
    "connection_revision": "commands",
    "downgrade_schema": "commands",
    "ensure_schema": "ensure",
    "migration_transaction": "transaction",
    "schema_history": "revisions",
    "schema_revision": "commands",
    "stamp_schema": "commands",
    "upgrade_schema": "commands",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'taskkit._migrate' has no attribute {name!r}")
    value = getattr(import_module(f"taskkit._migrate.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
