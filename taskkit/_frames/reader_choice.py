"""Where a read goes (an engine, or the caller's connection) and which reader serves it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession

from taskkit._database.engine import (
    is_memory_sqlite,
    postgres_connect_timeout,
    read_connection,
)
from taskkit._errors import InvalidArgumentError
from taskkit._frames.column_types import FAST_KINDS, Spec
from taskkit._frames.postgres_adbc_reader import PostgresReader
from taskkit._frames.reader import ThreadedReader
from taskkit._frames.sqlite_adbc_reader import SQLiteReader

# ---------------------------------------------------------------------------------------------
# Where to read from, and with which reader.


@dataclass
class Source:
    """Where a read goes: an engine (either reader), or a connection to read through."""

    engine: AsyncEngine | None = None
    conn: AsyncConnection | None = None
    # The caller's connection outside a transaction: a read through it starts its transaction
    # DEFERRED and rolls it back. Otherwise `conn` is in the caller's transaction, left as it
    # is (its uncommitted writes too).
    idle: bool = False
    # A session to read through (taskkit._database.engine.reading: its own transaction, or the
    # caller's).
    session: SAAsyncSession | None = None
    why_not_fast: str | None = None


async def resolve_source(source: Any) -> Source:
    """Decide what a source reads through.

    A session or connection inside a transaction may hold writes that no other connection can
    see yet, so it is read through its own connection (the SQLAlchemy reader), and its
    transaction is left open. Otherwise the read goes through the engine, where the fast
    reader can serve it.
    """
    if isinstance(source, SAAsyncSession):
        pending = bool(source.new or source.dirty or source.deleted)
        if not source.in_transaction() and not pending and isinstance(source.bind, AsyncEngine):
            return Source(engine=source.bind)
        if not source.in_transaction() and not pending:  # bound otherwise: read through it
            return Source(session=source, why_not_fast="the session is not bound to an engine")
        if pending and source.autoflush:
            await source.flush()  # what session.exec() would do first
        return Source(
            session=source,
            why_not_fast="the session has uncommitted changes or an open transaction, which "
            "only its own connection can see",
        )
    if isinstance(source, AsyncConnection):
        if source.closed or source.invalidated:
            state = "closed" if source.closed else "invalidated"
            raise InvalidArgumentError(
                f"source is an AsyncConnection that is {state}; pass an open connection, its "
                "engine, or a session"
            )
        if source.in_transaction():
            return Source(
                conn=source,
                why_not_fast="the connection is inside a transaction, whose uncommitted writes "
                "only it can see",
            )
        return Source(engine=source.engine, conn=source, idle=True)
    if isinstance(source, AsyncEngine):
        return Source(engine=source)
    raise InvalidArgumentError(
        f"source must be an AsyncEngine, AsyncConnection or AsyncSession (or a list of model "
        f"instances, without stmt), got {type(source).__name__}; taskkit.connect() makes an "
        "async engine"
    )


def fast_reader(engine: AsyncEngine, specs: list[Spec]) -> tuple[str, str] | str:
    """``(reader name, location)`` when the fast reader can serve, else the reason it cannot."""
    slow = [s.name for s in specs if s.kind not in FAST_KINDS]
    if slow:
        return f"column(s) {', '.join(slow)} have types only SQLAlchemy converts"
    url = engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        if is_memory_sqlite(url):
            return "an in-memory SQLite database cannot be reached by a second driver"
        if url.query:
            return "SQLite URLs with options are read through SQLAlchemy"
        if not os.path.isfile(url.database or ""):
            return f"SQLite file {url.database!r} does not exist"
        return "adbc-sqlite", os.path.abspath(url.database or "")
    if backend == "postgresql":
        return "adbc-postgresql", _libpq_uri(engine)
    return f"no fast reader for {backend}"


def _libpq_uri(engine: AsyncEngine) -> str:
    """The engine's asyncpg URL as libpq (which ADBC uses) understands it."""
    url = engine.url
    # taskkit.connect keeps the timeout out of the URL (asyncpg takes it as a number).
    query: dict[str, Any] = {
        "connect_timeout": str(max(1, round(postgres_connect_timeout(engine))))
    }
    for name, value in url.query.items():
        value = value if isinstance(value, str) else value[-1]
        if name == "ssl":
            query["sslmode"] = {"true": "require", "false": "disable"}.get(value.lower(), value)
        elif name in ("target_session_attrs", "krbsrvname", "passfile"):
            query[name] = value
        # asyncpg-only settings (statement caches, ...) mean nothing to libpq
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


async def open_fast_reader(engine: AsyncEngine, name: str, where: str) -> ThreadedReader:
    dialect = engine.sync_engine.dialect
    reader: SQLiteReader | PostgresReader
    if name == "adbc-sqlite":
        reader = SQLiteReader(where, dialect)
    else:
        # The engine's sessions may resolve names through a search_path set in connect_args;
        # asking the server also initializes the dialect (string escaping follows the server).
        async with read_connection(engine) as conn:
            search_path = await conn.scalar(sa.text("SELECT current_setting('search_path')"))
        reader = PostgresReader(where, str(search_path), dialect)
    await reader.open()
    return reader
