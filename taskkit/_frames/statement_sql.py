"""A statement as a reader runs it: the SQL sent, and where each raw column is in its result."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import SelectBase

from taskkit._frames.column_types import Spec
from taskkit._frames.typed_columns import finish
from taskkit._sqlalchemy_internals import bind_processors, cache_key

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect
    from sqlalchemy.sql.compiler import SQLCompiler

# SQLite hands back NULL text as NULL; the fast reader asks for a filler plus a NULL flag
# instead (see sqlite_raw_query), so these never reach a frame.
SQLITE_FILLERS = {
    "text": "''",
    "category": "''",
    "datetime": "'1970-01-01 00:00:00'",
    "float": "0.0",
}


@dataclass
class Query:
    """A statement as a reader runs it: the SQL statement and how to read its raw columns."""

    stmt: Any  # a SelectBase (the stubs do not count it as executable)
    specs: list[Spec]
    # For each spec: the index of its value column and of its NULL-flag column (or None).
    layout: list[tuple[int, int | None]]
    # SQLite's fast reader: the same with NULL flags, for when the first batch cannot type
    # every column (see raw_select). Plain is tried first: the flags cost about 15%.
    flagged: Query | None = None
    # None: the reader runs ``stmt``. False or True (SQLite's fast reader): it runs ``stmt``
    # wrapped by raw_select (``flag_nulls`` as said), compiled once per shape (see raw_sql).
    flag_nulls: bool | None = None


def plain_query(stmt: SelectBase, specs: list[Spec]) -> Query:
    return Query(stmt, specs, [(i, None) for i in range(len(specs))])


def sqlite_raw_query(stmt: SelectBase, specs: list[Spec]) -> Query:
    """``stmt`` wrapped so that SQLite returns each column in one storage type (raw_select)."""
    return plain_query(raw_select(stmt, specs, flag_nulls=False), specs)


def raw_query(stmt: SelectBase, specs: list[Spec]) -> Query:
    """The same for the ADBC reader, with its flagged form: each is compiled from ``stmt``
    once per statement shape when it runs (``raw_sql``), not wrapped anew for every read."""
    query = Query(stmt, specs, raw_layout(specs, False), flag_nulls=False)
    query.flagged = Query(stmt, specs, raw_layout(specs, True), flag_nulls=True)
    return query


def _flagged(spec: Spec, flag_nulls: bool) -> bool:
    return flag_nulls and spec.nullable and spec.kind in SQLITE_FILLERS


def raw_layout(specs: list[Spec], flag_nulls: bool) -> list[tuple[int, int | None]]:
    """Where raw_select puts each spec's value column and NULL flag (see Query.layout)."""
    layout: list[tuple[int, int | None]] = []
    width = 0
    for spec in specs:
        flag = width if _flagged(spec, flag_nulls) else None
        width += 1 if flag is None else 2
        layout.append((width - 1, flag))
    return layout


def raw_select(stmt: SelectBase, specs: list[Spec], *, flag_nulls: bool) -> sa.Select[Any]:
    """Wrap ``stmt`` so that SQLite returns each column in one storage type.

    Every reader gets timestamps and enum columns as the stored text (SQLAlchemy would parse
    them one by one in Python), floats as REAL and booleans as integers, so both readers see
    the same raw values and give identical frames.

    ``flag_nulls`` is for ADBC's SQLite driver, which fixes a column's Arrow type from the
    first batch and fails when a later batch does not fit: a text column that is NULL all
    through the first batch is typed int64, and the first text after it breaks the read. With
    the flag, nullable text, timestamp and float columns are read as COALESCE(col, filler)
    plus a separate `col IS NULL` column, which type the same in every batch.
    """
    sub = stmt.subquery("taskkit_rows")
    out: list[ColumnElement[Any]] = []
    for i, (spec, column) in enumerate(zip(specs, sub.c, strict=True)):
        value: ColumnElement[Any]
        if spec.kind == "float":
            value = sa.cast(column, sa.Float)
        elif spec.kind in ("text", "category", "datetime"):
            value = sa.type_coerce(column, sa.String)
        elif spec.kind in ("int", "bool"):
            value = sa.type_coerce(column, sa.Integer)
        else:
            value = column
        if _flagged(spec, flag_nulls):
            filler = sa.literal_column(SQLITE_FILLERS[spec.kind], value.type)
            value = sa.type_coerce(sa.func.coalesce(value, filler), value.type)
            out.append(sa.type_coerce(column.is_(None), sa.Integer).label(f"n{i}"))
        out.append(value.label(f"c{i}"))
    return sa.select(*out)


def raw_sql(query: Query, dialect: Dialect) -> tuple[str, list[Any]]:
    """The SQL and positional parameters of what SQLite's fast reader runs for ``query``."""
    flag_nulls, specs = bool(query.flag_nulls), query.specs
    return compiled_sql(
        query.stmt,
        dialect,
        wrap=lambda stmt: raw_select(stmt, specs, flag_nulls=flag_nulls),
        wrapping=("raw", flag_nulls),
    )


# ---------------------------------------------------------------------------------------------
# SQL compiled once per statement shape, its parameters taken from each statement.


@dataclass
class _Compiled:
    """A statement shape compiled for a dialect; without IN lists, also its final SQL, the
    order of its parameters and their processors (the same for every statement of the shape)."""

    compiled: SQLCompiler
    final: tuple[str, Sequence[str], Mapping[str, Any]] | None = None


_COMPILED: weakref.WeakKeyDictionary[Dialect, dict[Any, _Compiled]] = weakref.WeakKeyDictionary()
_COMPILED_MAX = 256
_compiled_lock = threading.Lock()


def compiled_sql(
    stmt: SelectBase,
    dialect: Dialect,
    *,
    wrap: Callable[[SelectBase], SelectBase] | None = None,
    wrapping: Hashable = None,
) -> tuple[str, list[Any]]:
    """The SQL text and positional parameters of ``stmt`` (or of ``wrap(stmt)``) for ``dialect``.

    Compiling a statement takes a few hundred microseconds, wrapping it as much again;
    SQLAlchemy's cache key says which statements share their SQL (same structure, other
    values), so the compiled form is kept per key (and ``wrapping``, which names the wrapper),
    and each statement's own values are put in its place: what SQLAlchemy's compiled cache
    does for its own executions. The wrapper is compiled with the statement's own cache key,
    whose parameters it contains (SQLAlchemy matches them by key); parameters the wrapper adds
    keep their own values. IN lists ("expanding" parameters) are rendered per call.
    """
    key = cache_key(stmt)
    entry = None
    if key is not None:
        with _compiled_lock:
            cache = _COMPILED.setdefault(dialect, {})
            entry = cache.get((key.key, wrapping))
    if entry is None:
        target = stmt if wrap is None else wrap(stmt)
        entry = _Compiled(target.compile(dialect=dialect, cache_key=key))
        if key is not None:
            with _compiled_lock:
                if len(cache) >= _COMPILED_MAX:
                    cache.pop(next(iter(cache)))  # the oldest entry
                cache[(key.key, wrapping)] = entry
    compiled = entry.compiled
    values: Mapping[str, Any] = compiled.construct_params(
        extracted_parameters=None if key is None else key.bindparams
    )
    processors: Mapping[str, Any]
    if entry.final is None:
        state = compiled.construct_expanded_state(values, escape_names=False)
        # What SQLAlchemy's execution applies: the statement's processors, and those of the
        # parameters an IN list expanded into (the state's own hold only the latter).
        processors = {**bind_processors(compiled), **state.processors}
        sql, names, values = state.statement, state.positiontup or (), state.parameters
        if not compiled.post_compile_params and not compiled.literal_execute_params:
            entry.final = sql, names, processors
    else:
        sql, names, processors = entry.final
    out = [processors[n](values[n]) if n in processors else values[n] for n in names]
    # str subclasses (StrEnum members) as plain str, as the other readers bind them.
    return sql, [str(v) if isinstance(v, str) else v for v in out]


def categories_as_text(stmt: SelectBase, specs: list[Spec]) -> Query:
    """``stmt`` with its category columns read as plain text (the SQLAlchemy reader on
    PostgreSQL): SQLAlchemy's Enum type would turn a value outside the categories into a
    LookupError, where both readers must report it the same way (see finish).

    The statement becomes a subquery; PostgreSQL keeps its ORDER BY (the plan's Sort stays on
    top of the subquery scan), as SQLite does for a single-table outer SELECT.
    """
    if not any(spec.kind == "category" for spec in specs):
        return plain_query(stmt, specs)
    sub = stmt.subquery("taskkit_rows")
    columns = [
        sa.type_coerce(column, sa.String) if spec.kind == "category" else column
        for column, spec in zip(sub.c, specs, strict=True)
    ]
    return plain_query(sa.select(*columns), specs)


def finish_batch(query: Query, raw: Sequence[pa.Array]) -> list[pa.Array]:
    return [
        finish(spec, raw[v], None if f is None else raw[f])
        for spec, (v, f) in zip(query.specs, query.layout, strict=True)
    ]
