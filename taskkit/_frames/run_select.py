"""to_dataframe: run a select and return its rows as a DataFrame."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.sql.selectable import SelectBase

from taskkit._checks import one_of
from taskkit._database.engine import read_connection, reading, redact
from taskkit._errors import InvalidArgumentError, TaskkitError
from taskkit._frames.arguments import (
    ONE_BATCH_ROWS,
    PROBE_ROWS,
    PROGRESS_MIN_ROWS,
    READERS,
    RELATED,
    SMALL_ROWS,
    check_chunksize,
    check_related,
    check_stmt,
)
from taskkit._frames.column_types import Spec, cached_specs
from taskkit._frames.in_memory import models_to_frame
from taskkit._frames.reader import FastReaderFailed, Reader
from taskkit._frames.reader_choice import (
    Source,
    fast_reader,
    open_fast_reader,
    resolve_source,
)
from taskkit._frames.related_columns import related_column
from taskkit._frames.sqlalchemy_reader import SQLAlchemyReader
from taskkit._frames.sqlite_inline_reader import SQLite3Reader, TooManyRows
from taskkit._frames.typed_columns import build_frame
from taskkit._progress import progress_bar, wants_progress
from taskkit._sqlalchemy_internals import literal_limit

# The package's logger: the name it had before frames.py became a package.
log = logging.getLogger("taskkit.frames")


# ---------------------------------------------------------------------------------------------
# The public functions.


async def _run(
    reader: Reader,
    stmt: SelectBase,
    specs: list[Spec],
    related: tuple[str, ...],
    chunksize: int,
    progress: bool | None,
) -> pd.DataFrame:
    bar = None
    if wants_progress(progress):
        # The count costs one more query, so it runs only where a bar would be seen.
        total = await reader.count(stmt)
        if progress is True or total >= PROGRESS_MIN_ROWS:
            bar = progress_bar(True, total=total, desc="reading")
    try:
        query = reader.query(stmt, specs)
        columns = await reader.fetch(query, chunksize=chunksize, on_rows=bar and bar.update)
    finally:
        if bar is not None:
            bar.close()
    extra = [await related_column(reader, r, columns, chunksize) for r in related]
    log.debug("read %s column(s) through %s", len(specs), reader.name)
    return build_frame(columns + extra)


async def to_dataframe(
    source: AsyncEngine | AsyncConnection | SAAsyncSession | Sequence[Any],
    stmt: SelectBase | None = None,
    *,
    related: Sequence[str] = (),
    chunksize: int | None = None,
    progress: bool | None = None,
    reader: Literal["auto", "adbc", "sqlalchemy"] = "auto",
) -> pd.DataFrame:
    """Run a select and return its rows as a DataFrame whose dtypes come from the models.

    Columns are named by the statement (labels for expressions) and typed by what they select,
    never by the values: ``Status``/``Priority``/``Resolution`` fields (any Enum-typed model
    field, such as ``StatusChange.source``) are ordered ``Categorical`` with the declared
    categories in declared order; timestamps
    ``datetime64[us, UTC]``; NOT NULL integers ``int64`` and nullable ones (or an integer from
    an outer join, ``sum()``, ...) ``Int64``; ``count()`` ``int64``; floats, numerics and
    ``avg()`` ``float64``; text the pandas ``str`` dtype; booleans ``boolean``. Other types
    (dates, JSON, bytes, untyped expressions such as ``func.julianday(...)``: give them a type
    with ``cast`` or ``type_coerce``) keep SQLAlchemy's Python values in ``object`` columns.
    An empty result has the same columns and dtypes as a full one.

    SQLite files and PostgreSQL are read by ADBC straight into Arrow, in a worker thread;
    in-memory SQLite, a session or connection inside a transaction (its uncommitted writes
    are visible only to its own connection) and ``object`` columns are read through
    SQLAlchemy; both readers give identical frames. A disposed engine reconnects, as it does
    everywhere in SQLAlchemy.

    Args:
        source: an ``AsyncEngine``, ``AsyncConnection`` or ``AsyncSession``; or a list of
            model instances or rows (then ``stmt`` is left out: see :func:`models_to_frame`).
        stmt: any select: ``select(Task)``, columns, joins, aggregates with labels, unions,
            ``text(...).columns(...)``.
        related: ``"project"`` adds ``project_name`` (needs ``Task.project_id`` selected);
            ``"workers"`` adds ``worker_ids``, an ``object`` column holding a list of worker
            ids per task sorted by id, and ``"labels"`` adds ``labels``, the task's label
            names sorted (both need ``Task.id``); a list's ``str()`` is its items joined by
            ``;``, which is what ``df.to_csv`` writes. ``df.explode("worker_ids")`` gives one
            row per task and worker (a task without workers keeps one row with ``NaN``). The
            frame, list columns included, reads back from ``df.to_parquet`` /
            ``df.to_feather`` with ``pd.read_parquet`` / ``pd.read_feather``.
        chunksize: rows read per batch (default 2,048): what a progress step and the
            working memory beyond the frame cover. The result is one DataFrame either way.
        progress: ``True`` shows a progress bar (tqdm), ``False`` never; ``None`` shows one
            in a terminal or notebook for results of 50,000 rows or more. Showing one costs
            a ``count(*)`` of the statement first.
        reader: ``"auto"``; ``"adbc"`` to insist on the fast reader (an error says why it
            cannot serve); ``"sqlalchemy"`` to read through the engine's own driver.

    Returns:
        A DataFrame with a RangeIndex, one column per selected column plus the related ones.

    Raises:
        InvalidArgumentError: ``stmt`` is not a select, two columns share a name, ``source``,
            ``related``, ``chunksize``, ``progress`` or ``reader`` is not allowed, or a
            closed connection.
        DatabaseUnavailableError: the database cannot be reached.
        InvalidDataError: the database holds a value its model does not allow (a status outside
            the declared categories, text in a timestamp column): never turned into NaN.
    """
    if isinstance(source, (list, tuple)):
        if stmt is not None or related:
            raise InvalidArgumentError(
                "with a list of model instances as source, leave out stmt and related "
                f"(got stmt={type(stmt).__name__}, related={related!r})"
            )
        return models_to_frame(source)
    if stmt is None:
        raise InvalidArgumentError(
            f"stmt is required with a {type(source).__name__} source, e.g. select(Task)"
        )
    stmt = check_stmt(stmt)
    names = check_related(related)
    rows = check_chunksize(chunksize)
    if progress not in (None, True, False):
        raise InvalidArgumentError(f"progress must be True, False or None, got {progress!r}")
    one_of("reader", reader, READERS)
    specs = cached_specs(stmt)
    clash = [RELATED[r] for r in names if RELATED[r] in {s.name for s in specs}]
    if clash:
        raise InvalidArgumentError(
            f"related would add {', '.join(clash)}, which stmt already selects; label it "
            "otherwise or leave the related name out"
        )
    where = await resolve_source(source)
    fast = where.why_not_fast or (fast_reader(where.engine, specs) if where.engine else "no engine")
    if reader == "adbc" and isinstance(fast, str):
        raise InvalidArgumentError(f"reader='adbc' cannot serve this read: {fast}")
    if reader != "sqlalchemy" and where.engine is not None and not isinstance(fast, str):
        stated = literal_limit(stmt)
        small = stated is None or stated <= SMALL_ROWS  # a larger LIMIT expects many rows
        known = stated  # at most this many rows, when known
        if reader == "auto" and fast[0] == "adbc-sqlite" and progress is not True and small:
            frame, known = await _read_small(
                where.engine, fast[1], stmt, stated, specs, names, rows
            )
            if frame is not None:
                return frame
        if (
            chunksize is None
            and fast[0] == "adbc-sqlite"
            and known is not None
            and known <= ONE_BATCH_ROWS
        ):
            # A result known to be small is one batch: no first batch whose column types
            # might need the flagged SQL run again (see sqlite_adbc_reader).
            rows = max(rows, known + 1)
        try:
            adbc = await open_fast_reader(where.engine, *fast)
        except FastReaderFailed as exc:
            adbc, failure = None, exc
        if adbc is not None:
            try:
                return await _run(adbc, stmt, specs, names, rows, progress)
            except FastReaderFailed as exc:
                failure = exc
            finally:
                await adbc.close()
        if reader == "adbc":
            raise TaskkitError(f"the ADBC reader failed: {redact(str(failure))}") from failure
        log.info("ADBC reader failed (%s); reading through SQLAlchemy", redact(str(failure)))
    return await _run_sqlalchemy(where, stmt, specs, names, rows, progress)


async def _read_small(
    engine: AsyncEngine,
    path: str,
    stmt: SelectBase,
    stated: int | None,
    specs: list[Spec],
    related: tuple[str, ...],
    chunksize: int,
) -> tuple[pd.DataFrame | None, int | None]:
    """A SQLite read in this process when the result is small (else None), and the row count
    when SQLite counted it (see sqlite_inline_reader).

    Called for a statement whose LIMIT (``stated``, when it is a plain number) is at most
    SMALL_ROWS, read here whole, or that has none: that one is fetched for up to PROBE_ROWS
    rows; if it has more, SQLite counts them up to ONE_BATCH_ROWS + 1 in the same snapshot,
    and the read goes on here if they are at most SMALL_ROWS, else the ADBC reader reads it
    (which costs the rows fetched and counted so far, a small share of what it then reads),
    told the count when it is exact.
    """
    limit = None if stated is not None else PROBE_ROWS
    sync = engine.sync_engine
    reader = SQLite3Reader(
        sync,
        path,
        sync.dialect,
        limit=limit,
        count_to=ONE_BATCH_ROWS,
        keep_to=SMALL_ROWS,
        statements=1 + len(related),
    )
    try:
        # No progress bar: the result is small, or the read moves to the ADBC reader, which
        # shows one if it should.
        return await _run(reader, stmt, specs, related, chunksize, progress=False), None
    except TooManyRows as exc:
        return None, exc.rows
    except FastReaderFailed:
        return None, None
    finally:
        await reader.close()


async def _run_sqlalchemy(
    where: Source,
    stmt: SelectBase,
    specs: list[Spec],
    related: tuple[str, ...],
    chunksize: int,
    progress: bool | None,
) -> pd.DataFrame:
    async def run(conn: AsyncConnection) -> pd.DataFrame:
        reader = SQLAlchemyReader(conn, sqlite=conn.dialect.name == "sqlite")
        return await _run(reader, stmt, specs, related, chunksize, progress)

    conn = where.conn
    if conn is not None and where.idle:
        # The read's own transaction, ended after; the caller's connection is left as it was.
        async with read_connection(conn) as own:
            return await run(own)
    if conn is not None:  # inside the caller's transaction, left as it is
        return await run(conn)
    if where.session is not None:
        async with reading(where.session):
            return await run(await where.session.connection())
    assert where.engine is not None
    # A read should not queue behind SQLite writers (taskkit begins with IMMEDIATE for them).
    async with read_connection(where.engine) as new:
        return await run(new)
