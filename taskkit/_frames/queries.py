"""A statement as a reader runs it: the SQL sent, and where each raw column is in its result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.sql.elements import (
    ColumnElement,
)
from sqlalchemy.sql.selectable import SelectBase

from taskkit._frames.columns import _finish
from taskkit._frames.specs import _Spec

# SQLite hands back NULL text as NULL; the fast reader asks for a filler plus a NULL flag
# instead (see _sqlite_raw_query), so these never reach a frame.
_SQLITE_FILLERS = {
    "text": "''",
    "category": "''",
    "datetime": "'1970-01-01 00:00:00'",
    "float": "0.0",
}


@dataclass
class _Query:
    """A statement as a reader runs it: the SQL statement and how to read its raw columns."""

    stmt: Any  # a SelectBase (the stubs do not count it as executable)
    specs: list[_Spec]
    # For each spec: the index of its value column and of its NULL-flag column (or None).
    layout: list[tuple[int, int | None]]
    # SQLite's fast reader: the same with NULL flags, for when the first batch cannot type
    # every column (see _sqlite_raw_query). Plain is tried first: the flags cost about 15%.
    flagged: _Query | None = None


def _plain_query(stmt: SelectBase, specs: list[_Spec]) -> _Query:
    return _Query(stmt, specs, [(i, None) for i in range(len(specs))])


def _sqlite_raw_query(stmt: SelectBase, specs: list[_Spec], *, flag_nulls: bool) -> _Query:
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
    layout: list[tuple[int, int | None]] = []
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
        flag = None
        if flag_nulls and spec.nullable and spec.kind in _SQLITE_FILLERS:
            filler = sa.literal_column(_SQLITE_FILLERS[spec.kind], value.type)
            value = sa.type_coerce(sa.func.coalesce(value, filler), value.type)
            out.append(sa.type_coerce(column.is_(None), sa.Integer).label(f"n{i}"))
            flag = len(out) - 1
        out.append(value.label(f"c{i}"))
        layout.append((len(out) - 1, flag))
    return _Query(sa.select(*out), specs, layout)


def _categories_as_text(stmt: SelectBase, specs: list[_Spec]) -> _Query:
    """``stmt`` with its category columns read as plain text (the SQLAlchemy reader on
    PostgreSQL): SQLAlchemy's Enum type would turn a value outside the categories into a
    LookupError, where both readers must report it the same way (see _finish).

    The statement becomes a subquery; PostgreSQL keeps its ORDER BY (the plan's Sort stays on
    top of the subquery scan), as SQLite does for a single-table outer SELECT.
    """
    if not any(spec.kind == "category" for spec in specs):
        return _plain_query(stmt, specs)
    sub = stmt.subquery("taskkit_rows")
    columns = [
        sa.type_coerce(column, sa.String) if spec.kind == "category" else column
        for column, spec in zip(sub.c, specs, strict=True)
    ]
    return _plain_query(sa.select(*columns), specs)


def _finish_batch(query: _Query, raw: Sequence[pa.Array]) -> list[pa.Array]:
    return [
        _finish(spec, raw[v], None if f is None else raw[f])
        for spec, (v, f) in zip(query.specs, query.layout, strict=True)
    ]
