"""The SQLAlchemy reader, and what the fast (ADBC) readers share."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import SelectBase

from taskkit._frames.arguments import DEFAULT_CHUNKSIZE
from taskkit._frames.column_types import Spec
from taskkit._frames.statement_sql import Query, categories_as_text, plain_query, sqlite_raw_query
from taskkit._frames.typed_columns import Column, finish, raw_from_python

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect


# ---------------------------------------------------------------------------------------------
# Readers: each runs a statement and returns finished chunks per column.


class SQLAlchemyReader:
    """Reads through an AsyncConnection (the engine's own driver), in chunks."""

    name = "sqlalchemy"

    def __init__(self, conn: AsyncConnection, *, sqlite: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite

    def query(self, stmt: SelectBase, specs: list[Spec]) -> Query:
        if self.sqlite:
            return sqlite_raw_query(stmt, specs, flag_nulls=False)
        return categories_as_text(stmt, specs)

    async def count(self, stmt: SelectBase) -> int:
        total = await self.conn.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        return int(total or 0)

    async def fetch(
        self, query: Query, *, chunksize: int, on_rows: Callable[[int], None] | None = None
    ) -> list[Column]:
        out = [Column(spec) for spec in query.specs]
        result = await self.conn.stream(query.stmt)
        async for rows in result.partitions(chunksize):
            columns = list(zip(*rows, strict=True))
            for column, (v, f) in zip(out, query.layout, strict=True):
                spec = column.spec
                if spec.kind == "object":
                    column.append(list(columns[v]))
                    continue
                raw = raw_from_python(spec, columns[v])
                flags = None if f is None else pa.array(columns[f], pa.int64())
                column.append(finish(spec, raw, flags))
            if on_rows:
                on_rows(len(rows))
        return out


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


class ThreadedReader:
    """A fast reader: its blocking driver runs in a worker thread, the event loop stays free."""

    name = "adbc"

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
