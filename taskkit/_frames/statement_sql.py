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

from taskkit._frames.column_types import Spec
from taskkit._frames.typed_columns import finish

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
    # every column (see sqlite_raw_query). Plain is tried first: the flags cost about 15%.
    flagged: Query | None = None


def plain_query(stmt: SelectBase, specs: list[Spec]) -> Query:
    return Query(stmt, specs, [(i, None) for i in range(len(specs))])


def sqlite_raw_query(stmt: SelectBase, specs: list[Spec], *, flag_nulls: bool) -> Query:
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
        if flag_nulls and spec.nullable and spec.kind in SQLITE_FILLERS:
            filler = sa.literal_column(SQLITE_FILLERS[spec.kind], value.type)
            value = sa.type_coerce(sa.func.coalesce(value, filler), value.type)
            out.append(sa.type_coerce(column.is_(None), sa.Integer).label(f"n{i}"))
            flag = len(out) - 1
        out.append(value.label(f"c{i}"))
        layout.append((len(out) - 1, flag))
    return Query(sa.select(*out), specs, layout)


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
