"""``ensure_schema``: bring a database to head, without Alembic where it has nothing to do.

A database already at head is only read. An empty SQLite database gets the head schema from
:mod:`~taskkit._database.sqlite_head`: the statements the migrations leave in ``sqlite_master``,
run in one transaction (as Rails loads ``schema.rb`` rather than replaying every migration;
a test holds the two equal). Anything else (an older database, PostgreSQL, a database that is
not taskkit's) goes through Alembic (:func:`~taskkit._migrate.commands.upgrade_schema`), with
its checks and messages. Alembic is imported only then: about a third of a second to a
second of every small ``taskkit import`` and ``taskkit init`` went into it.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._checks import engine_argument
from taskkit._database import sqlite_head
from taskkit._database.engine import create_sqlite_file, ping, read_connection, write_transaction
from taskkit._database.messages import database_error
from taskkit._database.sqlite_file import create_head_schema
from taskkit._errors import MigrationError, TaskkitError
from taskkit._migrate.known import VERSION_TABLE, head_revision

__all__ = ["ensure_schema"]


async def ensure_schema(engine: AsyncEngine) -> str:
    """Bring the database to head: create the schema if it is empty, upgrade it if it is older.

    What ``taskkit init`` (and any command that creates a database) calls, so that every
    database taskkit makes can be upgraded later. A database already at head is only read.

    Returns:
        The head revision.

    Raises:
        MigrationError: the database has taskkit tables but no recorded revision (created
            outside migrations, e.g. by ``create_db_and_tables``): the message says how to
            adopt it; or it is at a revision this taskkit does not know; or a revision
            failed. Nothing was changed.
        DatabaseUnavailableError: the database cannot be reached.
    """
    head = head_revision()
    engine_argument(engine)
    create_sqlite_file(engine)  # ensuring the schema of a new SQLite file creates it
    if head is not None:
        await ping(engine)
        with _as_migration_error(engine, "read the schema"):
            async with read_connection(engine) as conn:
                tables, versions = await conn.run_sync(_state)
        if versions == [head]:
            return head
        if not tables and engine.dialect.name == "sqlite" and head == sqlite_head.REVISION:
            with _as_migration_error(engine, "create the schema"):
                async with write_transaction(engine) as conn:  # one creator at a time
                    if await conn.run_sync(_create_sqlite_head):
                        return head
            # another connection made tables meanwhile: Alembic looks at what it made
    from taskkit._migrate.commands import upgrade_schema
    from taskkit._migrate.revisions import script_directory

    await upgrade_schema(engine, "head")
    alembic_head = script_directory().get_current_head()
    assert alembic_head is not None  # taskkit ships at least one revision
    return alembic_head


def _state(conn: Connection) -> tuple[list[str], list[str] | None]:
    """(the tables, the rows of the version table, or None without one)."""
    tables = inspect(conn).get_table_names()
    if VERSION_TABLE not in tables:
        return tables, None
    rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return tables, [row[0] for row in rows]


def _create_sqlite_head(conn: Connection) -> bool:
    """Create the head schema if the database is still empty (checked under the write lock);
    False if it is not."""
    if inspect(conn).get_table_names():
        return False
    create_head_schema(conn.exec_driver_sql)
    return True


@contextmanager
def _as_migration_error(engine: AsyncEngine, doing: str) -> Iterator[None]:
    try:
        yield
    except TaskkitError:
        raise
    except Exception as exc:
        raise database_error(
            MigrationError,
            f"cannot {doing} of",
            engine.url,
            exc,
            then="; rolled back, the database is unchanged",
        ) from exc
