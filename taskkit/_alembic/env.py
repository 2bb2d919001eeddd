"""Alembic's environment for taskkit: how revisions reach the database.

Two ways in, one code path:

* ``taskkit._migrate`` (and so ``taskkit db ...``, ``taskkit init``) opens a transaction on an
  engine made by ``taskkit.connect()`` and hands its connection over in
  ``config.attributes["connection"]``. The whole command runs inside that one transaction,
  which ``taskkit._migrate`` commits, or rolls back on any error.
* Alembic's own command line, for developers writing a revision
  (``uv run alembic -c taskkit/_alembic/alembic.ini revision --autogenerate ...``): no
  connection is handed over, so this file connects to ``taskkit.database_url()`` itself
  (``DATABASE_URL``, else ``data/taskkit.db``) and goes through the same transaction helper.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import taskkit._models  # noqa: F401  (registers the tables on SQLModel.metadata)
from taskkit._database.engine import connect, database_url
from taskkit._migrate.transaction import migration_transaction

config = context.config
target_metadata = SQLModel.metadata


def run_migrations(connection: Connection) -> None:
    """Configure Alembic on ``connection`` (already inside a transaction) and run the command."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # Without it autogenerate and `db check` ignore a column whose type changed.
        compare_type=True,
        # SQLite cannot ALTER a column or add a constraint: batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        # taskkit's SQLite engine issues an explicit BEGIN IMMEDIATE with the sqlite3 module's
        # own transaction handling off, so DDL there rolls back like on PostgreSQL. Alembic
        # assumes otherwise for SQLite; say so (the connection's transaction is the caller's).
        transactional_ddl=True,
    )
    with context.begin_transaction():  # a no-op: the caller's transaction is already open
        context.run_migrations()


async def run_standalone() -> None:
    """Alembic's command line: connect like taskkit does and run in one transaction."""
    engine = connect()
    try:
        async with migration_transaction(engine) as conn:
            await conn.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    # `alembic upgrade --sql`: print the SQL for the database DATABASE_URL names. SQLite's batch
    # operations need to read the live table, so offline SQL is for PostgreSQL.
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run_migrations(given)
else:
    if config.config_file_name is not None:  # Alembic's command line: log what it runs
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(run_standalone())
