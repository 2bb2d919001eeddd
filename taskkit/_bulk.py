"""The one fast insert path, shared by seeding and loading.

Rows arrive as Arrow tables (one column per database column) and are written in ONE
transaction, so an interrupted write (an error, Ctrl-C, SIGKILL) leaves the database exactly as
it was:

* SQLite file: ADBC's bulk ingest (C, no Python object per row) inside ``BEGIN IMMEDIATE`` ...
  ``COMMIT``, in the SQLite child process (``taskkit._sqlite_child``, which says why). Batches
  stream to it while the next ones are generated here, so both cores work.
* PostgreSQL: ``COPY ... FROM STDIN (FORMAT binary)`` through asyncpg, the Arrow batches
  encoded by pgpq.
* In-memory SQLite (a second driver cannot reach it) and small writes to a file:
  ``executemany`` on the engine's own connection, in one transaction as well.

Before anything is written, the writer looks at what the database already holds (inside the
same transaction, with the write lock taken) and hands that to the batch factory, which decides
whether to refuse, and how to number new rows.
"""

import contextlib
import io
import logging
import sys
import time
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskkit._bulk_parts import (
    LABELS_SQL,
    PROJECTS_SQL,
    SERIAL,
    SQLITE_CHILD_MIN_ROWS,
    SUMMARY_SQL,
    TABLES,
    WORKERS_SQL,
    BatchFactory,
    Existing,
    count_written,
    existing_from,
    insert_sql,
    prepared_ahead,
    records,
    sqlite_ready,
)
from taskkit._database.engine import (
    is_memory_sqlite,
    missing_tables_error,
    require_sqlite_tables_file,
    write_transaction,
)
from taskkit._database.messages import what_went_wrong
from taskkit._errors import BulkWriteError
from taskkit._optional import require
from taskkit._progress import progress_bar
from taskkit._sqlite_child import bulk_write
from taskkit._sqlite_child.client import SQLiteChild

__all__ = ["start_writer", "write_batches"]

log = logging.getLogger("taskkit.bulk")

OnExisting = Literal["keep", "replace"]


def postgres_errors() -> tuple[type[BaseException], ...]:
    """asyncpg's error base class once asyncpg is loaded (COPY raises it unwrapped). The
    PostgreSQL dialect loads it to connect: before that no PostgreSQL write can have happened,
    so there is none to catch, and a SQLite import does not pay asyncpg's import (without the
    ``postgres`` extra it is not even installed)."""
    asyncpg = sys.modules.get("asyncpg")
    return () if asyncpg is None else (asyncpg.PostgresError,)


async def write_batches(
    engine: AsyncEngine,
    make_batches: BatchFactory,
    *,
    on_existing: OnExisting = "keep",
    total_rows: int = 0,
    progress: bool | None = None,
    desc: str = "writing",
    check_foreign_keys: bool = True,
) -> dict[str, int]:
    """Write the batches that ``make_batches(existing)`` yields, all in one transaction.

    Args:
        engine: a taskkit engine (SQLite or PostgreSQL).
        make_batches: called once inside the transaction with what the database holds; yields
            ``(table_name, arrow_table)`` pairs in foreign-key order. It may raise to refuse.
        on_existing: ``"replace"`` deletes every taskkit row first (same transaction);
            ``"keep"`` leaves them.
        total_rows: task rows expected, for the progress bar.
        progress: show a progress bar (``None``: only in Jupyter or on a terminal).
        desc: the progress bar's label.
        check_foreign_keys: ``False`` only for rows whose keys are right by construction (the
            seed numbers its own projects, workers and tasks in an empty database): the SQLite
            bulk writer then skips its foreign-key scan before COMMIT (a third of a second per
            million tasks). Every other path checks keys as usual.

    Returns:
        Rows written per table.
    """
    require_sqlite_tables_file(engine)
    bar = progress_bar(progress, total=total_rows, desc=desc)
    refused: tuple[type[BaseException], ...] = (DBAPIError, *postgres_errors())
    try:
        if engine.dialect.name == "postgresql":
            return await _write_postgres(engine, make_batches, on_existing, bar)
        if is_memory_sqlite(engine.url) or total_rows < SQLITE_CHILD_MIN_ROWS:
            return await _write_sqlite_engine(engine, make_batches, on_existing, bar)
        return await _write_sqlite_file(engine, make_batches, on_existing, bar, check_foreign_keys)
    except refused as exc:
        reason = what_went_wrong(exc, engine.url)
        raise BulkWriteError(
            f"the database refused the write, nothing was stored: {reason}"
        ) from exc
    finally:
        bar.close()


# --- SQLite ----------------------------------------------------------------------------------


def start_writer(engine: AsyncEngine) -> None:
    """Start the SQLite helper process for a :func:`write_batches` to come, so that its own
    start overlaps the caller's work (``taskkit import`` checks rows meanwhile). It waits idle
    and opens nothing until used; unused, it ends after a few minutes or at exit. Nothing to
    start for PostgreSQL or in-memory SQLite."""
    if engine.dialect.name == "sqlite" and not is_memory_sqlite(engine.url):
        SQLiteChild.prestart()


async def _write_sqlite_file(
    engine: AsyncEngine,
    make_batches: BatchFactory,
    on_existing: OnExisting,
    bar: Any,
    check_foreign_keys: bool,
) -> dict[str, int]:
    # The engine's idle connections (its pool's, taskkit's readers') are closed first, so that
    # the child may have the file to itself; they open again when next used.
    await engine.dispose()
    return await bulk_write.write_file(
        engine.url.database or "", make_batches, replace=on_existing == "replace", bar=bar,
        check_foreign_keys=check_foreign_keys,
        # "no such table" as the engine's writes say it (connect() translates theirs), so
        # that a seed or import refuses the same way at every size.
        refused_to_open=lambda exc: missing_tables_error(engine.url, exc),
    )  # fmt: skip


async def _write_sqlite_engine(
    engine: AsyncEngine, make_batches: BatchFactory, on_existing: OnExisting, bar: Any
) -> dict[str, int]:
    written: dict[str, int] = {}
    async with write_transaction(engine) as conn:  # reads what exists, then writes
        if on_existing == "replace":
            for name in reversed(TABLES):
                await conn.exec_driver_sql(f"DELETE FROM {name}")
        existing = await _existing_async(conn)
        for name, table in make_batches(existing):
            ready = sqlite_ready(table)
            if ready.num_rows:
                await conn.exec_driver_sql(insert_sql(name, ready), list(records(ready)))
            count_written(written, name, table.num_rows, bar)
    return written


async def _existing_async(conn: AsyncConnection) -> Existing:
    async def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in (await conn.exec_driver_sql(sql)).all()]

    return existing_from(
        (await rows(SUMMARY_SQL))[0],
        await rows(PROJECTS_SQL),
        await rows(WORKERS_SQL),
        await rows(LABELS_SQL),
    )


# --- PostgreSQL ------------------------------------------------------------------------------


# The Arrow type each PostgreSQL column type is sent as in COPY's binary format: pgpq encodes
# Arrow batches in it, and the server reads each field with its column type's own binary input
# (an integer column takes exactly four bytes, a timestamp microseconds since 2000 UTC, text
# its UTF-8 bytes). Measured on the 1M-task seed's 3.29M history rows: the server copied them
# in 2.1 s where CSV took 3.6 s (no text to parse into timestamps), and the encoding took 0.36
# s instead of 0.8 s.
_BINARY_AS = {
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "character varying": pa.string(),
    "text": pa.string(),
    "timestamp with time zone": pa.timestamp("us", "UTC"),
}
_COLUMN_TYPES_SQL = (
    "SELECT table_name, column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name IN ({tables})"
)


async def _column_types(conn: AsyncConnection) -> dict[str, dict[str, str]]:
    """Each taskkit table's columns and their PostgreSQL types, as the database has them."""
    tables = ", ".join(f"'{name}'" for name in TABLES)
    found: dict[str, dict[str, str]] = {}
    rows: list[Any] = list(
        (await conn.exec_driver_sql(_COLUMN_TYPES_SQL.format(tables=tables))).all()
    )
    for table, column, data_type in rows:
        found.setdefault(table, {})[column] = data_type
    return found


def _copy_binary(name: str, table: pa.Table, types: dict[str, str], pgpq: Any) -> bytes:
    """``table``'s rows in COPY's binary format for table ``name`` (NULL and the empty string
    stay apart, as every value does: nothing is written as text and parsed back).

    Raises:
        BulkWriteError: a value the column cannot hold (an id past INTEGER's range), naming
            the table, the column and the type; nothing was stored.
    """
    columns = []
    for column_name, column in zip(table.column_names, table.columns, strict=True):
        data_type = types.get(column_name, "")
        if data_type not in _BINARY_AS:
            raise BulkWriteError(
                f"cannot write {name}.{column_name}: the database has it as "
                f"{data_type or 'no such column'}; nothing was stored"
            )
        try:
            columns.append(column.cast(_BINARY_AS[data_type]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise BulkWriteError(
                f"the database refused the write, nothing was stored: {name}.{column_name} "
                f"cannot hold a value as {data_type}: {exc}"
            ) from None
    typed = pa.table(columns, names=table.column_names)
    encoder = pgpq.ArrowToPostgresBinaryEncoder(typed.schema)
    parts = [encoder.write_header()]
    parts.extend(encoder.write_batch(batch) for batch in typed.to_batches())
    parts.append(encoder.finish())
    return b"".join(parts)


async def _drop_for_bulk(conn: AsyncConnection) -> list[str]:
    """Drop the foreign keys and plain (non-unique) indexes of the taskkit tables; return
    the statements that put them back, exactly as they were."""
    tables = ", ".join(f"'{name}'" for name in TABLES)
    rows: list[Any] = list(
        (
            await conn.exec_driver_sql(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'f' "
                f"AND c.conrelid::regclass::text IN ({tables}) ORDER BY 1, 2"
            )
        ).all()
    )
    indexes: list[Any] = list(
        (
            await conn.exec_driver_sql(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE NOT i.indisunique AND NOT i.indisprimary "
                f"AND i.indrelid::regclass::text IN ({tables}) ORDER BY 1"
            )
        ).all()
    )
    restore = [definition for _, definition in indexes]
    for table, name, definition in rows:
        await conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, _ in indexes:
        await conn.exec_driver_sql(f"DROP INDEX {name}")
    return restore


async def _write_postgres(
    engine: AsyncEngine, make_batches: BatchFactory, on_existing: OnExisting, bar: Any
) -> dict[str, int]:
    # Before anything is locked or dropped: without it, nothing can be written.
    pgpq = require("pgpq", extra="postgres", feature="writing to PostgreSQL in bulk")
    written: dict[str, int] = {}
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - mark
        mark = now

    async with engine.begin() as conn:
        # Writers wait for us and we for them; readers are not blocked.
        await conn.exec_driver_sql(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
        if on_existing == "replace":
            await conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        existing = await _existing_async(conn)
        for name, count in existing.counts.items():
            if count == 0 and name in SERIAL:
                # An empty table numbers its rows from 1, as SQLite's do (max(id) + 1): rows
                # written without ids get the same ids on both backends.
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), 1, false)"
                )
        # Into empty tables, checking foreign keys and building indexes once at the end is far
        # cheaper than per row (a foreign-key trigger fires for every row COPY writes). Same
        # transaction, so no reader ever sees them missing.
        deferred = await _drop_for_bulk(conn) if existing.counts["task"] == 0 else []
        lap("open")
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None

        # Rows without ids into an empty table are numbered here, 1, 2, ... in the order
        # written, as its sequence would number them (the table is locked, and was empty):
        # COPY then calls no nextval() per row (3.3M status changes in a 1M-task seed).
        next_id = {name: 1 for name in SERIAL if existing.counts[name] == 0}

        types = await _column_types(conn)

        def encoded(name: str, table: pa.Table) -> tuple[str, pa.Table, bytes]:
            if name in next_id and "id" not in table.column_names:
                first = next_id[name]
                next_id[name] += table.num_rows
                ids = pa.array(np.arange(first, first + table.num_rows, dtype=np.int64))
                table = table.append_column("id", ids)
            return name, table, _copy_binary(name, table, types.get(name, {}), pgpq)

        # The next batch is generated while the server copies this one.
        async with contextlib.aclosing(prepared_ahead(make_batches(existing), encoded)) as ready:
            lap("wait for rows")
            async for name, table, data in ready:
                lap("wait for rows")
                await driver.copy_to_table(
                    name, source=io.BytesIO(data), columns=table.column_names, format="binary"
                )
                count_written(written, name, table.num_rows, bar)
                lap(f"copy {name}")
        for statement in deferred:
            await conn.exec_driver_sql(statement)
            lap(statement.split(" ON ")[0].split(" FOREIGN KEY")[0][:80])
        for name in SERIAL:
            # Explicit ids bypass the sequences: move them past the largest id.
            await conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
            )
        lap("sequences")
    lap("commit")
    log.debug(
        "PostgreSQL writer, seconds per phase: %s", {k: round(v, 3) for k, v in phases.items()}
    )
    return written
