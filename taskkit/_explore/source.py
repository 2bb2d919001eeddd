"""Where the grid reads its pages: a SQLite file through Python's ``sqlite3``, in this thread.

A page of a SQLite file takes SQLite a fraction of a millisecond. Through aiosqlite (the
engine's driver) it takes about eighteen trips to the driver's thread (checkout, BEGIN, cursor,
execute, fetch, close, COMMIT, reset), and on a busy machine each trip waits for the thread
to be scheduled: the trips, not the query, made the grid's pages slow (11 ms for a first page
of a 1M-row file, of which SQLite took 0.14 ms). So a grid over a SQLite file reads its pages
through a synchronous engine of its own on the same file, inside the event loop's thread: the
session's greenlet never has to wait, and a page costs its Python work alone.

The engine is read-only (``PRAGMA query_only``), starts DEFERRED transactions (a reader
neither takes nor waits for the write lock) and sees what other connections committed, as
a second aiosqlite connection would. In-memory SQLite (one connection, nothing else can open
it) and PostgreSQL (asyncpg has no thread to cross) keep the user's engine. The row count and
the plan, which can take longer, run on the user's engine in the background.

What a page costs is then the query itself, and a statement that makes SQLite read every
row would hold the kernel for that long (a search that matches nothing in 1M tasks: 2 s).
So the grid reads a text search, and a view whose plan scans or sorts the whole table (known
once its first page is shown), through the user's engine instead, which waits in its thread.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from taskkit._database.engine import is_memory_sqlite
from taskkit._database.engine import session as async_session
from taskkit._database.owner import owner

__all__ = ["InlineSession", "interrupted", "page_session", "step_limit"]


class InlineSession(AsyncSession):
    """An ``AsyncSession`` over a synchronous engine: every call runs at once, in this thread.

    ``run_sync``, ``commit`` and the rest run their synchronous work in a greenlet that never
    waits; only ``connection()`` needs its own body, since there is no async connection to
    wrap (it returns the synchronous one).
    """

    async def connection(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.sync_session.connection(**kwargs)


# A read under step_limit is stopped by SQLite's progress handler, which SQLite calls every
# so many steps of its virtual machine while a statement runs.
_PROGRESS_EVERY = 100


@asynccontextmanager
async def step_limit(session: InlineSession, steps: int) -> AsyncIterator[None]:
    """Reads of ``session`` inside the block stop after about ``steps`` steps of SQLite's
    virtual machine (a page that walks an index takes a few per row read), raising
    ``sqlalchemy.exc.OperationalError`` for which :func:`interrupted` is true. Counted in
    steps, not time, so that a budget means the same on a busy machine."""
    connection = (await session.connection()).connection.driver_connection
    every = max(1, min(_PROGRESS_EVERY, steps))
    left = steps

    def tick() -> int:
        nonlocal left
        left -= every
        return 1 if left < 0 else 0  # non-zero: SQLite stops the statement ("interrupted")

    connection.set_progress_handler(tick, every)
    try:
        yield
    finally:
        connection.set_progress_handler(None, 0)


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is a read stopped by :func:`step_limit`."""
    orig = getattr(exc, "orig", None)
    return isinstance(orig, sqlite3.OperationalError) and str(orig) == "interrupted"


def _inline_engine(engine: AsyncEngine) -> sa.Engine | None:
    """The synchronous twin of a SQLite file engine, or None where the engine must serve."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or is_memory_sqlite(url) or url.query:
        return None  # URL options (mode=ro, uri=true, ...) are the user's engine's business
    if not os.path.isfile(url.database or ""):
        return None
    return owner(engine).grid_engine(url.database or "")  # as long as the engine lives


def page_session(engine: AsyncEngine, *, inline: bool = True) -> AsyncSession:
    """A session to read one page of ``engine``'s data with (``async with page_session(e)``).

    On a SQLite file an :class:`InlineSession` (see the module's documentation), elsewhere,
    or with ``inline=False`` (a page known to read many rows), a session of ``engine`` itself.
    """
    inline_engine = _inline_engine(engine) if inline else None
    if inline_engine is None:
        return async_session(engine)

    def bound(**kwargs: Any) -> Session:
        kwargs.pop("bind", None)
        kwargs.pop("binds", None)
        return Session(bind=inline_engine, **kwargs)

    return InlineSession(sync_session_class=bound, expire_on_commit=False)  # type: ignore[arg-type]
