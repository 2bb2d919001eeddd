"""Whether a database may be touched: does it exist (for reading), is it taskkit's (for writing).

Reading never creates anything: a SQLite file that is not there is an error, not a new empty
database (``taskkit info --db sqlite:///typo.db`` used to create ``typo.db``). Writing (seed,
import, init, migrations, the report's seeding) only goes into a database that is empty or
already taskkit's: one that holds other tables, with neither taskkit's tables nor a taskkit
migration record, is someone else's and is refused before anything is written.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from taskkit._database.engine import (
    describe_database,
    is_memory_sqlite,
    parse_database_url,
    read_connection,
    require_regular_file,
)
from taskkit._errors import ConfigurationError, ForeignDatabaseError
from taskkit._migrate.known import VERSION_TABLE, revision_ids

__all__ = [
    "DatabaseContents",
    "database_contents",
    "require_existing_database",
    "require_taskkit_database",
]


@dataclass(frozen=True)
class DatabaseContents:
    """What a database holds, as far as ownership goes."""

    tables: frozenset[str]  # every table of the default schema (SQLite: main)
    revision: str | None  # the row of alembic_version, if that table exists

    @property
    def empty(self) -> bool:
        """No table at all: a new database, free to take."""
        return not self.tables

    @property
    def taskkit_tables(self) -> list[str]:
        return sorted(self.tables & set(SQLModel.metadata.tables))

    @property
    def other_tables(self) -> list[str]:
        """Tables that are neither taskkit's nor its migration record."""
        return sorted(self.tables - set(SQLModel.metadata.tables) - {VERSION_TABLE})

    @property
    def is_taskkit(self) -> bool:
        """Empty, or holding taskkit's tables, or migrated by taskkit (a revision it knows)."""
        return self.empty or bool(self.taskkit_tables) or self.revision in _known_revisions()


def _known_revisions() -> set[str]:
    """The revision ids taskkit ships; Alembic is asked only if the scripts do not tell."""
    if ids := revision_ids():
        return set(ids)
    from taskkit._migrate.revisions import schema_history

    return {r.id for r in schema_history()}


def require_existing_database(url: str | URL | None = None) -> None:
    """Refuse, before anything connects, a database that reading would create.

    For a SQLite file: it must exist and be a regular file (SQLite creates a missing file on
    the first connection, and ``/dev/null`` gets a ``/dev/null-journal``). In-memory SQLite
    and PostgreSQL pass (a server never creates a database on connect). Call it in every
    path that only reads.

    Args:
        url: any URL :func:`taskkit.database_url` accepts (``None``: ``DATABASE_URL`` or the
            default file).

    Raises:
        ConfigurationError: the file does not exist, or is a directory or a device; or the
            URL itself is bad. Nothing was created.
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() != "sqlite" or is_memory_sqlite(parsed):
        return
    path = Path(parsed.database or "")
    if not path.exists():
        raise ConfigurationError(
            f"SQLite file {str(path)!r} does not exist (nothing was created); check the path, "
            "or create the database with `taskkit init` (or `taskkit seed`)"
        )
    require_regular_file(path)


async def database_contents(engine: AsyncEngine) -> DatabaseContents:
    """The tables ``engine``'s database holds and its recorded taskkit revision (read only)."""

    def look(conn: Connection) -> DatabaseContents:
        tables = frozenset(inspect(conn).get_table_names())
        revision = None
        if VERSION_TABLE in tables:
            revision = conn.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return DatabaseContents(tables=tables, revision=revision)

    async with read_connection(engine) as conn:
        return await conn.run_sync(look)


async def require_taskkit_database(engine: AsyncEngine, *, doing: str) -> DatabaseContents:
    """Refuse to write into a database that is not taskkit's; say what it holds otherwise.

    Taskkit's means: empty (no table at all), or holding taskkit's tables, or recording a
    revision of taskkit's migrations in ``alembic_version``. Anything else (a user's own
    tables, another project's migrations) is refused. Call it before every write that could
    create tables or rows: the CLI's ``init``, ``seed``, ``import``, ``db upgrade``,
    ``db downgrade``, ``db stamp``, and the report before it seeds.

    Args:
        engine: the database to check.
        doing: what the caller was about to do, for the message (``"seed"``).

    Returns:
        What the database holds (``.empty`` tells a new database apart).

    Raises:
        ForeignDatabaseError: the database holds other tables and is not taskkit's; nothing
            was written.
        DatabaseUnavailableError: the database cannot be reached.
    """
    contents = await database_contents(engine)
    if not contents.is_taskkit:
        others = contents.other_tables or [f"{VERSION_TABLE} at revision {contents.revision!r}"]
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        shown = ", ".join(others[:10]) + more
        raise ForeignDatabaseError(
            f"refusing to {doing}: {describe_database(engine.url)} is not taskkit's (it holds "
            f"other tables: {shown}; no taskkit table or migration record); nothing was "
            "written. Use an empty database or a new SQLite file (--db sqlite:///new.db)"
        )
    return contents
