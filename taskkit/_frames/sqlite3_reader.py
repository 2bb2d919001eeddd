"""Small reads of SQLite files in this process, through Python's own ``sqlite3``.

The ADBC reader (``sqlite_reader``) is the fastest road for large results, but every read
through it pays a fixed cost: round trips to its helper process, an Arrow IPC stream, the
statement wrapped and compiled anew (a few milliseconds in all). Most notebook queries return
a few rows to a few thousand, where that fixed cost is the whole read. Python's ``sqlite3`` is
the same SQLite library that aiosqlite (the engine's driver) uses, so it runs in this process
without the two-copies locking problem that sends ADBC to a helper process.

So a read of a SQLite file starts here, in one worker thread, through a synchronous
SQLAlchemy engine of its own (whose compiled-statement cache makes a repeated query shape
cost microseconds to prepare): the statement runs and up to ``limit`` rows are fetched. If
the result ends within them it is finished here; otherwise ``TooManyRows`` hands the read to
the ADBC reader, which runs the statement again in a transaction of its own. Values are read
from the DBAPI cursor as SQLite stores them (timestamps as text, booleans as integers), the
raw values the other readers see too, and converted by the same code.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from taskkit._frames.columns import _Column, _finish, _raw_from_python
from taskkit._frames.queries import _plain_query, _Query
from taskkit._frames.readers import _FastReaderFailed, _ThreadedReader

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect
    from sqlalchemy.sql.selectable import SelectBase

    from taskkit._frames.specs import _Spec


class TooManyRows(Exception):
    """The result is larger than the in-process reader takes on: the ADBC reader reads it."""


class _Engines:
    """One synchronous engine per SQLite file, kept for later reads."""

    _engines: ClassVar[dict[str, tuple[sa.Engine, tuple[int, int, int]]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @staticmethod
    def _identity(path: str) -> tuple[int, int, int]:
        # A file replaced under the same name (a test's database, a reset) must not be read
        # through connections to the old one; the pid keeps a forked process off our handles.
        stat = os.stat(path)
        return stat.st_dev, stat.st_ino, os.getpid()

    @classmethod
    def get(cls, path: str) -> sa.Engine:
        identity = cls._identity(path)
        with cls._lock:
            known = cls._engines.get(path)
            if known is not None and known[1] == identity:
                return known[0]
            if known is not None:
                # close=False in a forked copy: the connections belong to the parent.
                known[0].dispose(close=known[1][2] == identity[2])
            engine = cls._make(path)
            cls._engines[path] = (engine, identity)
            return engine

    @staticmethod
    def _make(path: str) -> sa.Engine:
        from taskkit._db import SQLITE_BUSY_TIMEOUT_MS

        # AUTOCOMMIT: the driver starts no transaction of its own; the read's BEGIN below does.
        engine = sa.create_engine(
            sa.URL.create("sqlite", database=path), isolation_level="AUTOCOMMIT"
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA query_only=1")
            cursor.close()

        return engine

    @classmethod
    def dispose_all(cls) -> None:
        with cls._lock:
            engines, cls._engines = cls._engines, {}
        pid = os.getpid()
        for engine, identity in engines.values():
            engine.dispose(close=identity[2] == pid)


class SQLite3Reader(_ThreadedReader):
    """Reads a SQLite file through ``sqlite3`` in a worker thread, in one DEFERRED transaction.

    Args:
        limit: the first statement may return at most this many rows, else ``TooManyRows``
            (the statements after it, ``related=`` lookups, have no limit).
        statements: how many statements the read runs; the transaction ends with the last, in
            the same trip to the worker thread.
    """

    name = "sqlite3"

    def __init__(
        self, path: str, dialect: Dialect, *, limit: int | None, statements: int = 1
    ) -> None:
        super().__init__(dialect)
        self.path = path
        self.limit = limit
        self.statements = statements
        self.conn: sa.Connection | None = None

    def query(self, stmt: SelectBase, specs: list[_Spec]) -> _Query:
        return _plain_query(stmt, specs)

    async def close(self) -> None:
        if self.conn is not None:
            await asyncio.to_thread(self._end)

    def _begin(self) -> sa.Connection:
        try:
            conn = _Engines.get(self.path).connect()
            conn.exec_driver_sql("BEGIN DEFERRED")  # one snapshot for the read and its lookups
        except (OSError, sa.exc.DBAPIError) as exc:
            raise _FastReaderFailed(f"cannot read {self.path!r}: {exc}") from exc
        return conn

    def _end(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.exec_driver_sql("ROLLBACK")
        except sa.exc.DBAPIError:
            conn.invalidate()
        conn.close()

    def _interrupt(self) -> None:
        if self.conn is not None:
            self.conn.connection.dbapi_connection.interrupt()  # type: ignore[union-attr]

    def _fetch_sync(
        self, query: _Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[_Column]:
        limit, self.limit = self.limit, None
        self.statements -= 1
        if self.conn is None:
            self.conn = self._begin()
        try:
            return self._read(query, chunksize, limit, on_rows)
        except sa.exc.DBAPIError as exc:
            raise _FastReaderFailed(f"{type(exc.orig).__name__}: {exc.orig}") from exc
        finally:
            if self.statements <= 0:
                self._end()

    def _read(
        self,
        query: _Query,
        chunksize: int,
        limit: int | None,
        on_rows: Callable[[int], None] | None,
    ) -> list[_Column]:
        assert self.conn is not None
        result = self.conn.execute(query.stmt)
        # The DBAPI cursor gives the values as SQLite stores them, which is what _finish reads
        # (SQLAlchemy's result processing would parse each timestamp in Python first).
        cursor = result.cursor
        if len(cursor.description) != len(query.specs):
            result.close()
            raise _FastReaderFailed("the statement's result has other columns than it selects")
        want = chunksize if limit is None else limit + 1
        rows = cursor.fetchmany(want)
        if limit is not None and len(rows) > limit:
            result.close()
            raise TooManyRows
        out = [_Column(spec) for spec in query.specs]
        while rows:
            columns = list(zip(*rows, strict=True))
            for column, (v, _) in zip(out, query.layout, strict=True):
                column.append(_finish(column.spec, _raw_from_python(column.spec, columns[v])))
            if on_rows:
                on_rows(len(rows))
            if len(rows) < want:  # a short batch is the last one
                break
            want = chunksize
            rows = cursor.fetchmany(want)
        result.close()
        return out
