"""The fast reader for PostgreSQL: ADBC's driver in a worker thread of this process."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy.exc import CompileError
from sqlalchemy.sql.selectable import SelectBase

from taskkit._database.engine import redact
from taskkit._frames.reader import (
    FastReaderFailed,
    ThreadedReader,
    opened_in_thread,
)
from taskkit._frames.statement_sql import Query, finish_batch
from taskkit._frames.typed_columns import Column
from taskkit._sqlalchemy_internals import bind_processors

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect


def _compile_statement(stmt: SelectBase, dialect: Dialect) -> tuple[str, list[Any]]:
    """SQL text and positional parameters for ADBC's PostgreSQL driver.

    ADBC streams through COPY only for statements without parameters (with parameters it
    builds the whole result as one batch, slower and all in memory), so plain values (str,
    int, float, bool, None, datetimes) are rendered as literals by SQLAlchemy's compiler for
    the dialect, which escapes them for the server's settings. Anything else is sent as a
    bound parameter, processed as SQLAlchemy would.
    """
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    names = compiled.positiontup or []
    plain = (str, int, float, type(None), dt.datetime)
    if all(isinstance(params[n], plain) for n in names):
        try:
            return stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}).string, []
        except CompileError:
            pass
    processors = bind_processors(compiled)
    values = [processors[n](params[n]) if n in processors else params[n] for n in names]
    # str subclasses (StrEnum members) as plain str: the drivers bind by exact type.
    return compiled.string, [str(v) if isinstance(v, str) else v for v in values]


class PostgresReader(ThreadedReader):
    """ADBC's PostgreSQL driver (COPY in binary, straight into Arrow), in this process."""

    name = "adbc-postgresql"

    def __init__(self, uri: str, search_path: str, dialect: Dialect) -> None:
        super().__init__(dialect)
        self.uri = uri
        self.search_path = search_path
        self.conn: Any = None
        self._cursor: Any = None

    async def open(self) -> None:
        try:
            self.conn = await opened_in_thread(self._connect, lambda conn: conn.close())
        except Exception as exc:
            raise FastReaderFailed(redact(str(exc))) from exc

    def _connect(self) -> Any:
        import adbc_driver_postgresql.dbapi as adbc_pg

        conn = adbc_pg.connect(self.uri)  # not autocommit: one transaction for the whole read
        with conn.cursor() as cursor:
            # Resolve names as the engine's own sessions do (connect_args may set it).
            cursor.execute("SELECT set_config('search_path', $1, true)", (self.search_path,))
            cursor.fetchall()
        return conn

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await asyncio.to_thread(conn.close)  # rolls back: we only read

    def _interrupt(self) -> None:
        cursor = self._cursor
        if cursor is not None:
            with contextlib.suppress(Exception):  # finished already, or cannot cancel
                cursor.adbc_cancel()

    def _fetch_sync(
        self, query: Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[Column]:
        import adbc_driver_manager

        out = [Column(spec) for spec in query.specs]
        sql, params = _compile_statement(query.stmt, self.dialect)
        cursor = self._cursor = self.conn.cursor()
        try:
            # PostgreSQL batches by size, not rows: aim at about chunksize rows.
            hint = max(chunksize * 64, 1 << 20)
            cursor.adbc_statement.set_options(
                **{"adbc.postgresql.batch_size_hint_bytes": str(hint)}
            )
            cursor.execute(sql, params or None)
            reader = cursor.fetch_record_batch()
            while not self.cancelled.is_set():
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                for column, array in zip(out, finish_batch(query, batch.columns), strict=True):
                    column.append(array)
                if on_rows:
                    on_rows(batch.num_rows)
        except (adbc_driver_manager.Error, pa.ArrowException, OSError) as exc:
            raise FastReaderFailed(redact(str(exc))) from exc
        finally:
            self._cursor = None
            cursor.close()
        return out
