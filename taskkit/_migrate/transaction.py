"""The one transaction every migration command runs in.

Each command runs in ONE transaction, committed only if every revision it runs succeeded: a
failing revision leaves the tables, indexes and ``alembic_version`` as they were. That holds on
SQLite too, because taskkit's SQLite engine issues its own ``BEGIN`` (here ``BEGIN
IMMEDIATE``) with the sqlite3 module's transaction handling off (under the module's defaults
SQLite DDL is not transactional).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskkit._database.owner import SQLITE_BEGIN_OPTION
from taskkit._errors import MigrationError

__all__ = ["migration_transaction"]

# Any fixed number: concurrent migrations of one PostgreSQL database queue on this lock.
_POSTGRES_LOCK_KEY = 72_616_573


@asynccontextmanager
async def migration_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside one transaction that commits only if the body succeeds.

    SQLite: foreign keys are switched off for the transaction (the pragma is ignored inside
    one, so it is set before) and checked with ``PRAGMA foreign_key_check`` before the commit.
    Batch mode rebuilds a table by copying it and dropping the original; with foreign keys on,
    that DROP deletes every row first and ``ON DELETE CASCADE`` empties the tables that
    reference it (``taskworkerlink`` when ``task`` is rebuilt).

    PostgreSQL: a transaction-level advisory lock makes concurrent migrations queue.
    """
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            await conn.run_sync(_sqlite_foreign_keys, on=False)
        try:
            # SQLite: the write lock from the start (a migration reads the schema, then
            # changes it); PostgreSQL: an ordinary transaction.
            await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY}
                    )
                yield conn
                if sqlite:
                    await conn.run_sync(_sqlite_require_foreign_keys_hold)
        finally:
            if sqlite:
                try:
                    await conn.run_sync(_sqlite_foreign_keys, on=True)
                except Exception:
                    # Never hand a connection without foreign keys back to the pool.
                    await conn.invalidate()
                    raise


# ---------------------------------------------------------------------------------------------
# SQLite foreign keys around a migration (sync: runs inside run_sync).


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    # On the DBAPI connection: through SQLAlchemy the statement would open a transaction first
    # (the engine's BEGIN), inside which SQLite ignores this pragma.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _sqlite_require_foreign_keys_hold(conn: Connection) -> None:
    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        table, rowid, parent, _ = problems[0]
        raise MigrationError(
            f"the migration would leave {len(problems)} row(s) whose foreign key points to no "
            f"row (first: {table} rowid {rowid} -> {parent}); rolled back, nothing changed"
        )
