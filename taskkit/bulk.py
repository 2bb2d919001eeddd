"""The one fast insert path, shared by seeding and loading.

Rows arrive as Arrow tables (one column per database column) and are written in ONE
transaction, so an interrupted write (an error, Ctrl-C, SIGKILL) leaves the database exactly as
it was:

* SQLite file: ADBC's bulk ingest (C, no Python object per row) on its own connection, inside
  ``BEGIN IMMEDIATE`` ... ``COMMIT``. The journal makes a killed process's write disappear.
* PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` through asyncpg, the CSV written by Arrow.
* In-memory SQLite (a second driver cannot reach it): ``executemany`` on the engine's connection.

Before anything is written, the writer looks at what the database already holds (inside the
same transaction, with the write lock taken) and hands that to the batch factory, which decides
whether to refuse, and how to number new rows.
"""

import asyncio
import contextlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from queue import Empty, Queue
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
from adbc_driver_manager import Error as AdbcError
from asyncpg import PostgresError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskkit.db import SQLITE_BUSY_TIMEOUT_MS, is_memory_sqlite
from taskkit.errors import BulkWriteError
from taskkit.progress import progress_bar

__all__ = ["TABLES", "Batch", "Existing", "write_batches"]

# Parents before children, so every foreign key points at a row that is already there.
TABLES = ("project", "worker", "task", "taskworkerlink")
Batch = tuple[str, pa.Table]
OnExisting = Literal["keep", "replace"]


@dataclass
class Existing:
    """What the database held when the write transaction started (after a reset: nothing)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    max_task_id: int = 0
    max_project_id: int = 0
    projects: dict[str, int] = field(default_factory=dict)  # name -> id
    workers: dict[str, str] = field(default_factory=dict)  # id -> name

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


BatchFactory = Callable[[Existing], Iterable[Batch]]


class _Interrupted(Exception):
    """The awaiting task was cancelled: the writer thread stops and rolls back."""


async def write_batches(
    engine: AsyncEngine,
    make_batches: BatchFactory,
    *,
    on_existing: OnExisting = "keep",
    total_rows: int = 0,
    progress: bool | None = None,
    desc: str = "writing",
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

    Returns:
        Rows written per table.
    """
    bar = progress_bar(progress, total=total_rows, desc=desc)
    try:
        if engine.dialect.name == "postgresql":
            return await _write_postgres(engine, make_batches, on_existing, bar)
        if is_memory_sqlite(engine.url):
            return await _write_sqlite_engine(engine, make_batches, on_existing, bar)
        return await _write_sqlite_file(engine, make_batches, on_existing, bar)
    except (DBAPIError, AdbcError, PostgresError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise BulkWriteError(
            f"the database refused the write, nothing was stored: {reason}"
        ) from exc
    finally:
        bar.close()


def _count(written: dict[str, int], name: str, table: pa.Table, bar: Any) -> None:
    written[name] = written.get(name, 0) + table.num_rows
    if name == "task":
        bar.update(table.num_rows)


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_ready(table: pa.Table) -> pa.Table:
    """Timestamps as the text SQLAlchemy's SQLite dialect stores (UTC, fixed width)."""
    for i, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            # A cast to naive UTC and then to text gives exactly that format, 10x faster
            # than strftime.
            as_text = table.column(i).cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))
            as_text = as_text.cast(pa.string())
            table = table.set_column(i, column.name, as_text)
    return table


_SUMMARY_SQL = "SELECT " + ", ".join(
    [f"(SELECT count(*) FROM {name})" for name in TABLES]
    + ["(SELECT coalesce(max(id), 0) FROM task)", "(SELECT coalesce(max(id), 0) FROM project)"]
)
_PROJECTS_SQL = "SELECT id, name FROM project"
_WORKERS_SQL = "SELECT id, name FROM worker"


def _existing_from(
    summary: tuple[Any, ...], projects: list[tuple[Any, ...]], workers: list[tuple[Any, ...]]
) -> Existing:
    *counts, max_task_id, max_project_id = (int(v) for v in summary)
    return Existing(
        counts=dict(zip(TABLES, counts, strict=True)),
        max_task_id=max_task_id,
        max_project_id=max_project_id,
        projects={name: int(pid) for pid, name in projects},
        workers={wid: name for wid, name in workers},
    )


def _prefetched(batches: Iterable[Batch], depth: int = 2) -> Iterator[Batch]:
    """Iterate ``batches`` in a helper thread, ``depth`` ahead: generating the next batch
    (numpy, Arrow: they release the GIL) overlaps with writing this one."""
    done = object()
    queue: Queue[Any] = Queue(maxsize=depth)
    cancelled = threading.Event()

    def produce() -> None:
        try:
            for item in batches:
                if cancelled.is_set():
                    return
                queue.put(item)
            queue.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(exc)

    producer = threading.Thread(target=produce, name="taskkit-batches", daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)


def _secondary_indexes(rows: Callable[[str], list[tuple[Any, ...]]]) -> list[tuple[str, str]]:
    listed = ", ".join(f"'{name}'" for name in TABLES)
    return [
        (name, sql)
        for name, sql in rows(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({listed}) ORDER BY name"
        )
    ]


def _check_foreign_keys(rows: Callable[[str], list[tuple[Any, ...]]]) -> None:
    broken = rows("PRAGMA foreign_key_check")
    if broken:
        table, rowid, parent, _ = broken[0]
        raise BulkWriteError(
            f"{len(broken):,} row(s) refer to missing rows, e.g. {table} row {rowid} -> {parent}; "
            "nothing was stored"
        )


def _sqlite_file_write(
    path: str,
    make_batches: BatchFactory,
    on_existing: OnExisting,
    bar: Any,
    stop: threading.Event,
) -> dict[str, int]:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    written: dict[str, int] = {}
    # autocommit: the driver issues no BEGIN of its own; we take the write lock up front
    # (BEGIN IMMEDIATE) so that the look at existing rows and the writes are one snapshot.
    with adbc_sqlite.connect(path, autocommit=True) as conn, conn.cursor() as cur:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]

        # Foreign keys are checked once, in bulk, before COMMIT (PRAGMA foreign_key_check):
        # cheaper than a lookup per inserted row, and just as strict.
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA cache_size=-131072")  # 128 MiB of page cache for index builds
        cur.execute("BEGIN IMMEDIATE")
        try:
            if on_existing == "replace":
                for name in reversed(TABLES):
                    cur.execute(f"DELETE FROM {name}")
            existing = _existing_from(
                rows(_SUMMARY_SQL)[0], rows(_PROJECTS_SQL), rows(_WORKERS_SQL)
            )
            # Into an empty database, building indexes once at the end (a sort) is much faster
            # than updating them row by row. Same transaction: readers never see them missing.
            indexes = _secondary_indexes(rows) if existing.counts["task"] == 0 else []
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            for name, table in _prefetched(make_batches(existing)):
                if stop.is_set():
                    raise _Interrupted
                cur.adbc_ingest(name, _sqlite_ready(table), mode="append")
                _count(written, name, table, bar)
            for _, sql in indexes:
                cur.execute(sql)
            _check_foreign_keys(rows)
            if stop.is_set():
                raise _Interrupted
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    return written


async def _write_sqlite_file(
    engine: AsyncEngine, make_batches: BatchFactory, on_existing: OnExisting, bar: Any
) -> dict[str, int]:
    path = make_url(str(engine.url)).database or ""
    stop = threading.Event()
    work = asyncio.ensure_future(
        asyncio.to_thread(_sqlite_file_write, path, make_batches, on_existing, bar, stop)
    )
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        # Ctrl-C in a notebook or the CLI: the thread would otherwise go on and commit.
        stop.set()
        with contextlib.suppress(_Interrupted):
            await work
        raise


async def _write_sqlite_engine(
    engine: AsyncEngine, make_batches: BatchFactory, on_existing: OnExisting, bar: Any
) -> dict[str, int]:
    written: dict[str, int] = {}
    async with engine.begin() as conn:
        if on_existing == "replace":
            for name in reversed(TABLES):
                await conn.exec_driver_sql(f"DELETE FROM {name}")
        existing = await _existing_async(conn)
        for name, table in make_batches(existing):
            ready = _sqlite_ready(table)
            sql = (
                f"INSERT INTO {name} ({', '.join(ready.column_names)}) "
                f"VALUES ({', '.join('?' * ready.num_columns)})"
            )
            records = list(zip(*(col.to_pylist() for col in ready.columns), strict=True))
            if records:
                await conn.exec_driver_sql(sql, records)  # type: ignore[arg-type]
            _count(written, name, table, bar)
    return written


async def _existing_async(conn: AsyncConnection) -> Existing:
    async def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in (await conn.exec_driver_sql(sql)).all()]

    return _existing_from(
        (await rows(_SUMMARY_SQL))[0], await rows(_PROJECTS_SQL), await rows(_WORKERS_SQL)
    )


# --- PostgreSQL ------------------------------------------------------------------------------


def _csv_bytes(table: pa.Table) -> bytes:
    # Arrow writes NULL as an empty field and an empty string as "": exactly how PostgreSQL's
    # CSV format tells them apart. Timestamps carry a trailing Z (UTC).
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


async def _write_postgres(
    engine: AsyncEngine, make_batches: BatchFactory, on_existing: OnExisting, bar: Any
) -> dict[str, int]:
    written: dict[str, int] = {}
    async with engine.begin() as conn:
        # Writers wait for us and we for them; readers are not blocked.
        await conn.exec_driver_sql(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
        if on_existing == "replace":
            await conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        existing = await _existing_async(conn)
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        batches: Iterator[Batch] = iter(make_batches(existing))
        while True:
            # Generating a batch is CPU work: keep the event loop (a notebook's) responsive.
            item = await asyncio.to_thread(next, batches, None)
            if item is None:
                break
            name, table = item
            data = await asyncio.to_thread(_csv_bytes, table)
            await driver.copy_to_table(
                name, source=io.BytesIO(data), columns=table.column_names, format="csv"
            )
            _count(written, name, table, bar)
        for name in ("task", "project"):
            # Explicit ids bypass the sequences: move them past the largest id.
            await conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
            )
    return written
