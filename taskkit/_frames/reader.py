"""What every DataFrame reader is: the one interface ``run_select`` reads through.

A reader runs a statement and returns its columns, finished (typed Arrow chunks per column).
There are four, one module each, chosen in ``reader_choice`` and ``run_select``:

* ``sqlite_inline_reader``: small results of a SQLite file, in this process (``sqlite3``);
* ``sqlite_adbc_reader``: SQLite files, ADBC's driver in the SQLite helper process;
* ``postgres_adbc_reader``: PostgreSQL, ADBC's libpq driver in a worker thread;
* ``sqlalchemy_reader``: anything else, through the engine's own driver.

The three fast ones run a blocking driver in a worker thread (:class:`ThreadedReader`) and
give up with :class:`FastReaderFailed`, after which the SQLAlchemy reader takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.selectable import SelectBase

from taskkit._frames.arguments import DEFAULT_CHUNKSIZE
from taskkit._frames.column_types import Spec
from taskkit._frames.statement_sql import Query, plain_query
from taskkit._frames.typed_columns import Column

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect


class Reader(Protocol):
    """A DataFrame reader (see the module's documentation)."""

    #: Named in the debug log and in ``reader=`` errors.
    name: str

    def query(self, stmt: SelectBase, specs: list[Spec]) -> Query:
        """``stmt`` as this reader runs it (its columns laid out for ``specs``)."""
        ...

    async def count(self, stmt: SelectBase) -> int:
        """How many rows ``stmt`` returns (for a progress bar's total)."""
        ...

    async def fetch(
        self, query: Query, *, chunksize: int, on_rows: Callable[[int], None] | None = None
    ) -> list[Column]:
        """Run ``query``, ``chunksize`` rows at a time (``on_rows`` told each batch's size)."""
        ...


class FastReaderFailed(Exception):
    """The ADBC driver failed; the SQLAlchemy reader takes over (or, if asked for, it is raised)."""


async def opened_in_thread(open_: Callable[[], Any], close: Callable[[Any], Any]) -> Any:
    """``open_()`` in a worker thread; if the caller is cancelled meanwhile, what it opened is
    closed once the thread is done (a thread cannot be interrupted)."""
    task = asyncio.ensure_future(asyncio.to_thread(open_))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await asyncio.to_thread(close, await task)
        raise


class ThreadedReader(Reader):
    """A fast reader: its blocking driver runs in a worker thread, the event loop stays free."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.cancelled = threading.Event()

    def query(self, stmt: SelectBase, specs: list[Spec]) -> Query:
        return plain_query(stmt, specs)

    def _fetch_sync(
        self, query: Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[Column]:
        raise NotImplementedError

    async def open(self) -> None:
        """Connect (in a worker thread)."""

    async def close(self) -> None:
        """End the read transaction and let go of the connection."""

    def _interrupt(self) -> None:
        """Stop a running fetch from the event loop's thread (it is being cancelled)."""

    async def fetch(
        self, query: Query, *, chunksize: int, on_rows: Callable[[int], None] | None = None
    ) -> list[Column]:
        task = asyncio.ensure_future(asyncio.to_thread(self._fetch_sync, query, chunksize, on_rows))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # A thread cannot be interrupted: stop the driver under it, then wait for it, since
            # close() must not run while it still uses the connection.
            self.cancelled.set()
            self._interrupt()
            with contextlib.suppress(BaseException):
                await task
            raise

    async def count(self, stmt: SelectBase) -> int:
        query = self.query(
            sa.select(sa.func.count().label("n")).select_from(stmt.subquery()),
            [Spec("n", "int", nullable=False)],
        )
        (column,) = await self.fetch(query, chunksize=DEFAULT_CHUNKSIZE)
        return int(column.values[0]) if column.n and column.values is not None else 0
