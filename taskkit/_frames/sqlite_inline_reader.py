"""Small reads of SQLite files in this process, through Python's own ``sqlite3``.

The ADBC reader (``sqlite_adbc_reader``) is the fastest road for large results, but every read
through it pays a fixed cost: round trips to its helper process, an Arrow IPC stream, the
statement wrapped and compiled anew (a few milliseconds in all). Most notebook queries return
a few rows to a few thousand, where that fixed cost is the whole read. Python's ``sqlite3`` is
the same SQLite library that aiosqlite (the engine's driver) uses, so it runs in this process
without the two-copies locking problem that sends ADBC to a helper process.

So a read of a SQLite file starts here, on a plain ``sqlite3`` connection kept for the engine
by its owner (``taskkit._database.owner``): the statement's SQL comes from a cache of compiled
statements (``statement_sql.compiled_sql``), it runs, and up to ``limit`` rows are fetched. If the
result ends within them it is finished here (``sqlite_inline_values`` builds the pandas
arrays). If not, SQLite counts the rows up to ``count_to`` in the same snapshot: a result of
at most ``keep_to`` rows goes on being fetched here, a larger one raises ``TooManyRows`` (with
the count), which hands the read to the ADBC reader (it runs the statement again, in a
transaction of its own). Values are read as SQLite stores them (timestamps as text, booleans
as integers), the raw values the other readers see too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from taskkit._database.owner import ReadConnections, owner
from taskkit._frames.arguments import (
    INLINE_BATCH,
    INLINE_ROWS,
    INLINE_SECONDS,
    INLINE_STEPS,
    SORT_PROBE_SECONDS,
)
from taskkit._frames.reader import FastReaderFailed, ThreadedReader
from taskkit._frames.sqlite_inline_values import python_arrays
from taskkit._frames.statement_sql import Query, compiled_sql
from taskkit._frames.typed_columns import Column

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect
    from sqlalchemy.sql.selectable import SelectBase

    from taskkit._frames.column_types import Spec


class TooManyRows(Exception):
    """The result is larger than the in-process reader takes on: the ADBC reader reads it.

    ``rows`` is its row count when SQLite counted it to the end (see ``count_to``), else None.
    """

    def __init__(self, rows: int | None = None) -> None:
        super().__init__(rows)
        self.rows = rows


# ---------------------------------------------------------------------------------------------
# The reader.


class SQLite3Reader(ThreadedReader):
    """Reads a SQLite file through ``sqlite3``; several statements (a read with ``related=``
    lookups) in one DEFERRED transaction, one snapshot.

    A read of one statement starts on the event loop's thread: handing work to a worker
    thread and back costs more than reading a few hundred rows (and much more on a busy
    machine, where the worker waits to be scheduled). That start is bounded, so the loop is
    never held for long: SQLite stops the statement after ``INLINE_SECONDS`` (a progress
    handler), and at most ``INLINE_ROWS`` rows are fetched there. A statement that ran out of
    time starts again in a worker thread; a result with more rows goes on being fetched there,
    from the same cursor. Reads of several statements run in the worker thread throughout.

    Args:
        engine: the (sync) engine whose connections the read uses.
        limit: the first statement may return at most this many rows, else ``TooManyRows``
            (the statements after it, ``related=`` lookups, have no limit).
        count_to: when the first statement has more than ``limit`` rows, SQLite counts its
            rows up to ``count_to + 1`` (in the same snapshot: the statement is still open).
            Counting in SQLite costs a small share of fetching the rows into Python.
        keep_to: a counted result of at most this many rows goes on being read here, from
            where it is (so it is not read twice); a larger one raises ``TooManyRows`` with
            its count, if SQLite counted it to the end.
        statements: how many statements the read runs; the transaction ends with the last.
    """

    name = "sqlite3"

    def __init__(
        self,
        engine: sa.Engine,
        path: str,
        dialect: Dialect,
        *,
        limit: int | None,
        count_to: int,
        keep_to: int,
        statements: int,
    ) -> None:
        super().__init__(dialect)
        self.engine = engine
        self.path = path
        self.limit = limit
        self.count_to = count_to
        self.keep_to = keep_to
        self.statements = statements
        self.pool: ReadConnections | None = None
        self.generation = 0
        self.conn: sqlite3.Connection | None = None
        self.began = False
        self.broken = False
        # A statement the event loop's thread started: its cursor and the rows fetched so far.
        self.started: tuple[sqlite3.Cursor, list[Any]] | None = None
        self.compiled: tuple[Query, tuple[str, list[Any]]] | None = None

    async def fetch(
        self, query: Query, *, chunksize: int, on_rows: Callable[[int], None] | None = None
    ) -> list[Column]:
        if self.statements == 1 and self.conn is None:
            done = self._start_inline(query)
            if done is not None:
                return done
        return await super().fetch(query, chunksize=chunksize, on_rows=on_rows)

    async def close(self) -> None:
        # No thread needed: giving a connection back (after a ROLLBACK of a read, which never
        # waits for a lock) takes microseconds, and no fetch is running any more.
        self._end()

    def _begin(self) -> None:
        try:
            self.pool = owner(self.engine).read_connections
            self.generation, self.conn = self.pool.take(self.path)
            if self.statements > 1:  # one snapshot for the read and its lookups
                self.conn.execute("BEGIN DEFERRED")
                self.began = True
        except (OSError, sqlite3.Error) as exc:
            self._end()
            raise FastReaderFailed(f"cannot read {self.path!r}: {exc}") from exc

    def _end(self) -> None:
        if self.started is not None:
            self.started[0].close()
            self.started = None
        conn, self.conn = self.conn, None
        if conn is None or self.pool is None:
            return
        broken = self.broken
        if self.began:
            self.began = False
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                broken = True
        self.pool.give_back(self.generation, conn, broken=broken or conn.in_transaction)

    def _interrupt(self) -> None:
        if self.conn is not None:
            self.broken = True
            self.conn.interrupt()

    def _start_inline(self, query: Query) -> list[Column] | None:
        """Start the read on the event loop's thread: its columns if it ends within the
        bounds, else None (``started`` holds what the worker thread goes on with)."""
        self._begin()
        assert self.conn is not None
        # CPU time of this thread: the work done here is what holds the loop up, and a busy
        # machine that schedules another process meanwhile must not make it start again.
        start = time.thread_time()
        deadline = start + INLINE_SECONDS
        late = False

        def over_time() -> bool:
            nonlocal late
            late = time.thread_time() > deadline
            return late  # True stops the statement ("interrupted")

        want = INLINE_ROWS if self.limit is None else min(self.limit, INLINE_ROWS)
        rows: list[Any] = []
        ended = False
        conn = self.conn
        conn.set_progress_handler(over_time, INLINE_STEPS)
        try:
            cursor = self._execute(query)
            # In batches: between them, a read that has used its time goes on in the worker
            # thread from where it is (no work lost); within one, SQLite stops a statement
            # that takes too long to reach its next rows (a scan, a sort), and the worker
            # thread runs it again.
            while len(rows) <= want:
                ask = min(INLINE_BATCH, want + 1 - len(rows))
                batch = cursor.fetchmany(ask)
                rows += batch
                if len(batch) < ask:
                    ended = True
                    break
                now = time.thread_time()
                if now - start > INLINE_SECONDS:
                    break
                deadline = now + INLINE_SECONDS
        except sqlite3.Error as exc:
            conn.set_progress_handler(None, 0)
            if late and isinstance(exc, sqlite3.OperationalError):
                return None  # the worker thread starts it again, without a time limit
            self._end()
            raise FastReaderFailed(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            conn.set_progress_handler(None, 0)
            self._end()
            raise
        conn.set_progress_handler(None, 0)
        if not ended:
            # More to fetch than this thread takes on, or to count first: the worker does it.
            self.started = (cursor, rows)
            return None
        self._take_limit()
        try:
            return self._finish(query, cursor, rows, None)
        finally:
            self._end()

    def _take_limit(self) -> int | None:
        limit, self.limit = self.limit, None
        self.statements -= 1
        return limit

    def _execute(self, query: Query) -> sqlite3.Cursor:
        assert self.conn is not None
        sql, params = self._sql(query)
        cursor = self.conn.execute(sql, params)
        if len(cursor.description) != len(query.specs):
            cursor.close()
            raise FastReaderFailed("the statement's result has other columns than it selects")
        return cursor

    def _fetch_sync(
        self, query: Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[Column]:
        limit = self._take_limit()
        try:
            if self.conn is None:
                self._begin()
            if self.started is not None:
                (cursor, rows), self.started = self.started, None
            elif limit is not None:
                cursor, rows = self._probe(query)
            else:
                cursor, rows = self._execute(query), []
            try:
                if limit is None:
                    rows += cursor.fetchall()
                elif len(rows) <= limit:
                    rows += cursor.fetchmany(limit + 1 - len(rows))
                if limit is not None and len(rows) > limit:
                    counted = self._count(query)
                    if counted is None or counted > self.keep_to:
                        raise TooManyRows(counted)
                    rows += cursor.fetchall()
            except BaseException:
                cursor.close()
                raise
            return self._finish(query, cursor, rows, on_rows)
        except sqlite3.Error as exc:
            raise FastReaderFailed(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if self.statements <= 0:
                self._end()

    def _sql(self, query: Query) -> tuple[str, list[Any]]:
        """The statement's SQL and parameters, compiled once per read of it."""
        if self.compiled is None or self.compiled[0] is not query:
            self.compiled = (query, compiled_sql(query.stmt, self.dialect))
        return self.compiled[1]

    def _probe(self, query: Query) -> tuple[sqlite3.Cursor, list[Any]]:
        """Run the first statement for a read that may hand it to the ADBC reader: its cursor
        and its first row.

        A statement SQLite sorts before its first row (its plan says so) does all its work for
        that row: a large result would be sorted here, then again by the ADBC reader
        (``select_history()`` of a million tasks: 4 s more). So its first row gets
        ``SORT_PROBE_SECONDS`` of this thread's CPU time; a statement that needs more is large
        enough for the ADBC reader (``TooManyRows``). A small result on a large table (a
        selective filter) loses at most that time.
        """
        assert self.conn is not None
        conn = self.conn
        sql, params = self._sql(query)
        if not _sorts_before_first_row(self.path, conn, sql, params):
            return self._execute(query), []
        deadline = time.thread_time() + SORT_PROBE_SECONDS
        conn.set_progress_handler(lambda: time.thread_time() > deadline, INLINE_STEPS)
        cursor = None
        try:
            cursor = self._execute(query)
            return cursor, cursor.fetchmany(1)
        except sqlite3.OperationalError as exc:
            if cursor is not None:
                cursor.close()
            if time.thread_time() > deadline and "interrupt" in str(exc):
                raise TooManyRows from None
            raise
        finally:
            conn.set_progress_handler(None, 0)

    def _count(self, query: Query) -> int | None:
        """The first statement's row count, counted by SQLite up to ``count_to`` (None beyond
        it)."""
        assert self.conn is not None
        most = self.count_to + 1
        sql, params = compiled_sql(
            query.stmt,
            self.dialect,
            wrap=lambda stmt: bounded_count(stmt, most),
            wrapping=("bounded count", most),
        )
        (rows,) = self.conn.execute(sql, params).fetchone()
        return int(rows) if rows <= self.count_to else None

    @staticmethod
    def _finish(
        query: Query,
        cursor: sqlite3.Cursor,
        rows: list[Any],
        on_rows: Callable[[int], None] | None,
    ) -> list[Column]:
        cursor.close()  # a statement left open would hold its snapshot
        if on_rows:
            on_rows(len(rows))
        return _columns(query.specs, rows)


# Whether SQLite sorts a statement's whole result before its first row, by file and SQL
# (plans depend on the file's indexes, not on the values bound): asked once per shape.
_SORTS: dict[tuple[str, str], bool] = {}
_SORTS_MAX = 256
_sorts_lock = threading.Lock()


def _sorts_before_first_row(
    path: str, conn: sqlite3.Connection, sql: str, params: Sequence[Any]
) -> bool:
    """Whether the plan of ``sql`` sorts its result (``USE TEMP B-TREE FOR ORDER BY``) and does
    nothing else that needs every row first (grouping, DISTINCT: results that are usually
    small, and that the usual probe serves)."""
    with _sorts_lock:
        found = _SORTS.get((path, sql))
    if found is None:
        details = [str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        temporary = [d for d in details if "USE TEMP B-TREE" in d]
        found = bool(temporary) and all("ORDER BY" in d for d in temporary)
        with _sorts_lock:
            if len(_SORTS) >= _SORTS_MAX:
                _SORTS.pop(next(iter(_SORTS)))
            _SORTS[(path, sql)] = found
    return found


def bounded_count(stmt: SelectBase, most: int) -> sa.Select[Any]:
    """``SELECT count(*)`` of ``stmt``'s first ``most`` rows: the row count, up to ``most``.

    The order cannot change how many rows there are (with a LIMIT and OFFSET either), so the
    ORDER BY is left out: SQLite would otherwise sort the whole result to count it.
    """
    if isinstance(stmt, (sa.Select, sa.CompoundSelect)):
        stmt = stmt.order_by(None)
    first = sa.select(sa.literal(1)).select_from(stmt.subquery()).limit(most)
    return sa.select(sa.func.count()).select_from(first.subquery())


def _columns(specs: list[Spec], rows: list[Any]) -> list[Column]:
    """The rows' columns: pandas arrays built from the values, or the general road's columns
    for a column whose values need it (see ``sqlite_inline_values``)."""
    if not rows:
        return [_general(spec, ()) for spec in specs]
    columns = list(zip(*rows, strict=True))
    arrays = python_arrays(specs, columns)
    return [
        _general(spec, values) if array is None else Column.ready_made(spec, array)
        for spec, values, array in zip(specs, columns, arrays, strict=True)
    ]


def _general(spec: Spec, values: Sequence[Any]) -> Column:
    column = Column(spec)
    column.append_python(values)
    return column
