"""Query results as pandas DataFrames, with dtypes taken from the models, at Arrow speed.

``await to_dataframe(engine, select(Task))`` gives every column the dtype its model declares,
whatever the values: ``Status``/``Priority`` fields become ordered ``Categorical`` columns with
the declared categories, timestamps ``datetime64[us, UTC]``, NOT NULL integers ``int64``,
nullable integers ``Int64``, text pandas' ``str``, booleans ``boolean``, floats ``float64``.
An empty result has the same columns and dtypes as a full one. Types are read from the
statement (``selected_columns``), followed through labels, subqueries, unions, casts and
aggregates, so any select works, not only whole models.

Two readers produce the same frame:

* the fast reader, ADBC (C drivers reading straight into Arrow): PostgreSQL in a worker thread
  of this process; SQLite in a helper process (ADBC carries its own copy of SQLite, and two
  copies in one process break SQLite's file locks: see _SQLITE_CHILD);
* the SQLAlchemy reader (the engine's own async driver), for what the fast reader cannot
  serve: in-memory SQLite (a second driver cannot reach it), a session or connection inside a
  transaction (its uncommitted writes are visible only to its own connection), columns of types
  without an exact Arrow match (JSON, bytes, ...), and any failure of the fast reader.

Both hand raw columns to the same conversion code (_finish), which is what keeps their frames
identical, and which refuses values a model does not allow instead of turning them into NaN.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import enum
import json
import logging
import os
import queue
import struct
import subprocess
import sys
import threading
import time
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Row
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.sql import functions
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    Case,
    Cast,
    ColumnElement,
    Grouping,
    Label,
    TypeCoerce,
)
from sqlalchemy.sql.selectable import CompoundSelect, Join, Select, SelectBase
from sqlmodel import col

from taskkit.db import SQLITE_BEGIN_OPTION, is_memory_sqlite, redact
from taskkit.errors import InvalidArgumentError, InvalidDataError, TaskkitError
from taskkit.models import Project, Task, TaskWorkerLink

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

__all__ = ["RELATED", "models_to_frame", "to_dataframe"]

log = logging.getLogger(__name__)

DEFAULT_CHUNKSIZE = 65_536
# What `related=` accepts, and the column each name adds.
RELATED = {"project": "project_name", "workers": "worker_ids"}
READERS = ("auto", "adbc", "sqlalchemy")
# Below this many rows an automatic progress bar would only flicker (and would make notebook
# outputs differ from run to run).
PROGRESS_MIN_ROWS = 50_000
# Related rows are looked up by an IN list up to this many ids, else the whole table is read:
# the ids come from the frame itself, so the lookup cannot disagree with it.
IN_LIST_MAX = 1_000
# SQLite hands back NULL text as NULL; the fast reader asks for a filler plus a NULL flag
# instead (see _sqlite_raw_query), so these never reach a frame.
_SQLITE_FILLERS = {
    "text": "''",
    "category": "''",
    "datetime": "'1970-01-01 00:00:00'",
    "float": "0.0",
}

Kind = Literal[
    "int", "float", "bool", "datetime", "timedelta", "text", "category", "list", "object"
]
# Kinds the fast readers serve; anything else (JSON, bytes, intervals, untyped expressions) is
# read through SQLAlchemy, whose result processing gives the Python values users expect.
_FAST_KINDS = frozenset({"int", "float", "bool", "datetime", "text", "category"})


@dataclass(frozen=True)
class _Spec:
    """What one result column becomes: its name, kind and the details of its dtype."""

    name: str
    kind: Kind
    nullable: bool = True
    categories: tuple[str, ...] = ()
    tz: str | None = "UTC"
    origin: frozenset[tuple[str, str]] = frozenset()  # (table, column) it reads, if a column

    @property
    def arrow_type(self) -> pa.DataType:
        return {
            "int": pa.int64(),
            "float": pa.float64(),
            "bool": pa.bool_(),
            "datetime": pa.timestamp("us", self.tz),
            "timedelta": pa.duration("us"),
            "text": pa.large_string(),  # what pandas' str dtype holds: no cast later
            "category": pa.int8(),  # codes into `categories`; -1 / null is missing
            "list": pa.list_(pa.string()),  # related worker ids
            "object": pa.null(),
        }[self.kind]


# ---------------------------------------------------------------------------------------------
# Column specs from a statement: types from SQLAlchemy, categories from the models.


def _enum_values(annotation: Any) -> tuple[str, ...] | None:
    """The values of the Enum in ``annotation`` (``Status``, ``Status | None``, ...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(member.value) for member in annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            values = _enum_values(arg)
            if values is not None:
                return values
    return None


def _model_field(column: sa.Column[Any]) -> Any:
    """The pydantic field of the table model that maps ``column`` (``None`` if there is none)."""
    for mapper in sa.inspect(Task).registry.mappers:
        if mapper.local_table is column.table:
            try:
                prop = mapper.get_property_by_column(column)
            except Exception:  # a column the model does not declare
                return None
            return getattr(mapper.class_, "model_fields", {}).get(prop.key)
    return None


def _model_enums() -> list[tuple[str, ...]]:
    """The values of every Enum a table model declares a field of (Status, Priority, ...)."""
    found: dict[tuple[str, ...], None] = {}
    for mapper in sa.inspect(Task).registry.mappers:
        for field in getattr(mapper.class_, "model_fields", {}).values():
            values = _enum_values(field.annotation)
            if values is not None:
                found[values] = None
    return list(found)


def _unlabel(element: ColumnElement[Any]) -> ColumnElement[Any]:
    while isinstance(element, (Label, Grouping)):
        element = cast(ColumnElement[Any], element.element)
    return element


def _leaf_selects(stmt: SelectBase) -> list[SelectBase]:
    if isinstance(stmt, CompoundSelect):
        return [leaf for sub in stmt.selects for leaf in _leaf_selects(sub)]
    return [stmt]


def _outer_joined(stmt: SelectBase) -> set[Any]:
    """FROM items on the NULL-filled side of an outer join: their NOT NULL columns may be NULL."""
    found: set[Any] = set()

    def froms(from_: Any) -> set[Any]:
        return {t._deannotate() for t in sa.sql.util.find_tables(from_, include_aliases=True)}

    def walk(from_: Any) -> None:
        if isinstance(from_, Join):
            if from_.full:
                found.update(froms(from_.left) | froms(from_.right))
            elif from_.isouter:
                found.update(froms(from_.right))
            walk(from_.left)
            walk(from_.right)

    if isinstance(stmt, Select):
        for from_ in stmt.get_final_froms():
            walk(from_)
    return found


@dataclass
class _Info:
    """What the statement says about an expression: its SQL type, whether it can be NULL, the
    table columns it reads as they are, and the text literals it is made of (if only those)."""

    sql_type: Any
    nullable: bool = True
    columns: tuple[sa.Column[Any], ...] = ()
    literals: tuple[str, ...] | None = None


def _merge(infos: Sequence[_Info], sql_type: Any = None) -> _Info:
    """One column fed by several expressions (the branches of a union, coalesce, min/max)."""
    typed = [i.sql_type for i in infos if not isinstance(i.sql_type, sa.types.NullType)]
    if sql_type is None or isinstance(sql_type, sa.types.NullType):
        sql_type = typed[0] if typed else sa.types.NULLTYPE
    literal_sets = [i.literals for i in infos]
    return _Info(
        sql_type,
        any(i.nullable for i in infos),
        tuple(c for i in infos for c in i.columns),
        None if any(x is None for x in literal_sets) else tuple(v for x in literal_sets for v in x),  # type: ignore[union-attr]
    )


def _literal(text: str) -> _Info:
    """A literal_column's SQL text: SQLAlchemy leaves it untyped, its spelling says the type."""
    text = text.strip()
    if text.upper() == "NULL":
        return _Info(sa.types.NULLTYPE)
    if text.lstrip("-").isdigit():
        return _Info(sa.Integer(), nullable=False)
    try:
        float(text)
        return _Info(sa.Float(), nullable=False)
    except ValueError:
        pass
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return _Info(sa.String(), nullable=False, literals=(text[1:-1].replace("''", "'"),))
    return _Info(sa.types.NULLTYPE)


def _info(element: ColumnElement[Any], outer: set[Any]) -> _Info:
    """Follow an expression down to what it is made of, through labels, subqueries, unions,
    casts, coalesce/min/max/sum and arithmetic, to type it and tell whether it can be NULL."""
    e = _unlabel(element)
    own = e.type
    if isinstance(e, sa.Column) and isinstance(e.table, sa.Table):
        return _Info(own, bool(e.nullable) or e.table._deannotate() in outer, (e,))
    if isinstance(e, sa.ColumnClause):
        if e.is_literal:
            return _literal(e.name)
        source = getattr(e.table, "element", None)  # a column of a subquery, CTE or alias
        if source is not None and e.table is not None:
            inner = _source_columns(source, e.key)
            if inner is not None:
                found = _merge([_info(c, o) for c, o in inner], own)
                found.nullable = found.nullable or e.table._deannotate() in outer
                return found
        return _Info(own)
    if isinstance(e, (TypeCoerce, Cast)):
        # A deliberate type: the model's categories no longer apply (the escape hatch for
        # values outside them: type_coerce(Task.status, String)).
        return _Info(own, _info(e.clause, outer).nullable)
    if isinstance(e, functions.count):
        return _Info(sa.Integer(), nullable=False)
    if isinstance(e, functions.Function):
        args = [_info(a, outer) for a in e.clauses]
        name = e.name.lower()
        if name == "avg":
            return _Info(sa.Float())  # SQLAlchemy leaves avg() untyped: a float everywhere
        if name in ("coalesce", "ifnull"):
            found = _merge(args, own)
            found.nullable = all(a.nullable for a in args)
            return found
        if name in ("min", "max", "sum", "total") and args:
            found = _merge(args[:1], own)
            found.nullable = True  # over no rows
            if name in ("sum", "total"):
                found.columns, found.literals = (), None
            return found
        return _Info(own)
    if isinstance(e, BindParameter):
        value = e.effective_value
        return _Info(
            own, nullable=value is None, literals=(value,) if isinstance(value, str) else None
        )
    if isinstance(e, Case):
        results = [_info(r, outer) for _, r in e.whens]
        fallback = _info(e.else_, outer) if e.else_ is not None else _Info(own)
        found = _merge([*results, fallback], own)
        found.columns = ()
        return found
    if isinstance(e, BinaryExpression) and not isinstance(own, sa.Boolean):
        sides = [_info(e.left, outer), _info(e.right, outer)]
        return _Info(_merge(sides, own).sql_type, any(s.nullable for s in sides))
    return _Info(own)


def _source_columns(source: Any, key: str) -> list[tuple[Any, set[Any]]] | None:
    """The expressions behind column ``key`` of a subquery/CTE/alias, with their outer joins."""
    if isinstance(source, sa.Table):
        return [(source.c[key], set())] if key in source.c else None
    if not isinstance(source, SelectBase):
        return None
    keys = list(source.selected_columns.keys())
    if key not in keys:
        return None
    position = keys.index(key)
    return [
        (list(leaf.selected_columns)[position], _outer_joined(leaf))
        for leaf in _leaf_selects(source)
        if len(leaf.selected_columns) > position
    ]


def _column_spec(name: str, info: _Info) -> _Spec:
    """The spec of one result column from what the statement says about it."""
    origin = frozenset(
        (c.table.name, c.name) for c in info.columns if isinstance(c.table, sa.Table)
    )
    sql_type: Any = info.sql_type
    if isinstance(sql_type, sa.TypeDecorator):
        sql_type = sql_type.impl_instance
    nullable = info.nullable
    if isinstance(sql_type, sa.Enum) and sql_type.enums:
        return _Spec(name, "category", nullable, tuple(sql_type.enums), origin=origin)
    if info.columns:
        fields = [_model_field(c) for c in info.columns]
        found = {None if f is None else _enum_values(f.annotation) for f in fields}
        if len(found) == 1 and (categories := found.pop()) is not None:
            return _Spec(name, "category", nullable, categories, origin=origin)
    elif info.literals and len(set(info.literals)) > 1:
        # Text literals that all spell values of one model Enum (a union of 'pending',
        # 'in_progress', ... as in the status/priority tables of taskkit.query) are that Enum.
        # One literal alone ('high') says too little to be taken for one.
        owners = [e for e in _model_enums() if set(info.literals) <= set(e)]
        if len(owners) == 1:
            return _Spec(name, "category", nullable, owners[0], origin=origin)
    kind: Kind
    tz: str | None = "UTC"
    if isinstance(sql_type, sa.Boolean):
        kind = "bool"
    elif isinstance(sql_type, sa.Integer):
        kind = "int"
    elif isinstance(sql_type, (sa.Numeric, sa.Float)):  # float64, also for Numeric (no Decimal)
        kind = "float"
    elif isinstance(sql_type, sa.DateTime):
        kind, tz = "datetime", ("UTC" if sql_type.timezone else None)
    elif isinstance(sql_type, sa.Date):
        kind, tz = "datetime", None  # a calendar day: naive datetime64 at midnight
    elif isinstance(sql_type, sa.Interval):
        kind = "timedelta"
    elif isinstance(sql_type, sa.String):
        kind = "text"
    else:
        kind = "object"
    return _Spec(name, kind, nullable, tz=tz, origin=origin)


def _specs(stmt: SelectBase) -> list[_Spec]:
    """One spec per selected column, in order.

    Raises:
        InvalidArgumentError: two columns share a name.
    """
    names = list(stmt.selected_columns.keys())
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidArgumentError(
            f"stmt selects more than one column named {', '.join(map(repr, duplicates))}; "
            "a DataFrame needs distinct column names: give them labels, e.g. "
            "select(Task, Project.id.label('project_pk'))"
        )
    leaves = [(list(leaf.selected_columns), _outer_joined(leaf)) for leaf in _leaf_selects(stmt)]
    return [
        _column_spec(
            name,
            _merge(
                [_info(cols[i], outer) for cols, outer in leaves if i < len(cols)],
                stmt.selected_columns[i].type,
            ),
        )
        for i, name in enumerate(names)
    ]


# ---------------------------------------------------------------------------------------------
# Raw column -> final Arrow array (shared by both readers, which is what keeps them identical).


def _bad_values(spec: _Spec, raw: pa.Array, bad: pa.Array, allowed: str) -> InvalidDataError:
    values = pc.unique(raw.filter(bad)).to_pylist()[:5]
    shown = ", ".join(repr(v) for v in values)
    return InvalidDataError(
        f"column {spec.name!r} holds {shown}, not {allowed}; the database has values its "
        "model does not allow (written by another tool?). Fix those rows, or select the "
        f"column as plain text: type_coerce(<column>, String).label({spec.name!r})"
    )


def _parse_timestamps(spec: _Spec, raw: pa.Array) -> pa.Array:
    """Text timestamps (SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff', UTC) -> timestamp[us]."""
    target = pa.timestamp("us", spec.tz)
    try:
        # The common case, vectorized in C++: no zone offset, the UTC that SQLAlchemy writes.
        return pc.cast(raw, pa.timestamp("us")).cast(target)
    except pa.ArrowInvalid:
        pass
    try:  # written by another tool, every value with an offset ('...Z', '...+02:00')
        return pc.cast(raw, pa.timestamp("us", "UTC")).cast(target)
    except pa.ArrowInvalid:
        pass
    # A mix: pandas' ISO 8601 parser takes both forms (slower, still vectorized).
    parsed = pd.to_datetime(
        pd.Series(raw.to_pandas(), dtype=object), format="ISO8601", utc=True, errors="coerce"
    )
    result = pa.array(parsed.dt.as_unit("us"), type=pa.timestamp("us", "UTC"))
    bad = pc.and_(pc.is_valid(raw), pc.is_null(result))
    if pc.any(bad).as_py():
        raise _bad_values(spec, raw, bad, "an ISO 8601 timestamp")
    return result.cast(target)


def _owned(result: pa.Array, raw: pa.Array) -> pa.Array:
    """``result``, copied if it shares a buffer with ``raw``.

    Text is kept as Arrow: a cast to the same type is free because it shares the driver's
    buffers, but a column that kept pointing into ADBC's batches would keep each whole
    batch's allocation alive (with the raw text of every other column), and memory would
    grow to several times the frame.
    """
    shared = {b.address for b in raw.buffers() if b is not None}
    if any(b is not None and b.address in shared for b in result.buffers()):
        return pa.concat_arrays([result])
    return result


def _finish(spec: _Spec, raw: pa.Array, null_flags: pa.Array | None = None) -> pa.Array:
    """Turn a column as a driver returned it into the final Arrow array of ``spec``.

    Args:
        spec: the column's spec.
        raw: the values (SQLite: NULLs may be replaced by a filler, flagged in ``null_flags``).
        null_flags: for SQLite's fast reader, 1 where the value is NULL.

    Raises:
        InvalidDataError: a value that does not fit the column's declared type or categories.
    """
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if isinstance(raw.type, pa.ExtensionType):  # PostgreSQL numeric arrives as opaque text
        raw = raw.storage
    if null_flags is not None:
        valid = pc.equal(null_flags, 0)
        raw = (
            pc.if_else(valid, raw, pa.scalar(None, raw.type)) if not pc.all(valid).as_py() else raw
        )
    target = spec.arrow_type
    try:
        if spec.kind == "category":
            raw = raw.cast(pa.string())
            codes = pc.index_in(raw, value_set=pa.array(spec.categories, pa.string()))
            bad = pc.and_(pc.is_valid(raw), pc.is_null(codes))
            if pc.any(bad).as_py():
                raise _bad_values(
                    spec, raw, bad, f"one of the categories {', '.join(spec.categories)}"
                )
            return codes.cast(pa.int8())
        if spec.kind == "datetime":
            if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
                return _parse_timestamps(spec, raw)
            if pa.types.is_timestamp(raw.type) or pa.types.is_null(raw.type):
                return raw.cast(target)
            if pa.types.is_date(raw.type):  # PostgreSQL dates: midnight
                return raw.cast(pa.timestamp("us")).cast(target)
            bad = pc.is_valid(raw)
            if pc.any(bad).as_py():
                raise _bad_values(spec, raw, bad, "a timestamp")
            return pa.nulls(len(raw), target)
        if spec.kind == "bool" and pa.types.is_integer(raw.type):
            return pc.not_equal(raw, 0)
        result = raw.cast(target)
        if spec.kind == "text":
            result = _owned(result, raw)
    except pa.ArrowException as exc:
        raise InvalidDataError(
            f"column {spec.name!r} holds a value that is not {spec.kind} ({exc}); the "
            "database has values its model does not allow (written by another tool?)"
        ) from None
    if spec.kind == "int" and not spec.nullable and result.null_count:
        raise InvalidDataError(
            f"column {spec.name!r} is NOT NULL in the model but the database returned NULL "
            "for it; select it through an expression to read it as a nullable Int64"
        )
    return result


def _raw_from_python(spec: _Spec, values: Sequence[Any]) -> pa.Array:
    """A column of Python values (the SQLAlchemy reader) as the raw Arrow array _finish reads."""
    try:
        if spec.kind == "float":
            return pa.array([None if v is None else float(v) for v in values], pa.float64())
        if spec.kind == "timedelta":
            return pa.array(values, pa.duration("us"))
        return pa.array(values)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidDataError(
            f"column {spec.name!r} holds values of mixed types that do not fit {spec.kind} "
            f"({exc}); the database has values its model does not allow"
        ) from None


_NUMPY_TYPES = {
    "int": np.int64,
    "float": np.float64,
    "bool": np.bool_,
    "datetime": np.int64,  # microseconds, viewed as datetime64[us] at the end
    "timedelta": np.int64,
    "category": np.int8,  # codes, -1 for missing
}
_NAT = np.iinfo(np.int64).min


class _Column:
    """One result column being collected batch by batch, in the memory layout of its dtype.

    Numeric columns (ints, floats, booleans, timestamps, category codes) go straight into one
    numpy array that grows by doubling with realloc (mremap for large arrays: no copy, and
    the untouched tail is never resident), so a frame never exists twice in memory. Text and
    list columns stay Arrow chunks, which pandas' ``str`` and Arrow dtypes adopt as they are.
    """

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.n = 0
        self.chunks: list[Any] = []
        numpy_type = _NUMPY_TYPES.get(spec.kind)
        self.values: np.ndarray[Any, Any] | None = (
            None if numpy_type is None else np.empty(0, numpy_type)
        )
        masked = (spec.kind == "int" and spec.nullable) or spec.kind == "bool"
        self.mask = np.empty(0, np.bool_) if masked else None

    def __len__(self) -> int:
        return self.n if self.values is not None else sum(len(c) for c in self.chunks)

    def append(self, array: Any) -> None:
        """Add a finished Arrow array (a list of Python values for ``object`` columns)."""
        if self.values is None:
            self.chunks.append(array)
            return
        size = len(array)
        if self.n + size > len(self.values):
            capacity = max(self.n + size, 2 * len(self.values), 1024)
            self.values.resize(capacity, refcheck=False)  # nothing else holds a view on it
            if self.mask is not None:
                self.mask.resize(capacity, refcheck=False)
        kind = self.spec.kind
        if kind in ("datetime", "timedelta"):
            array = array.cast(pa.int64())
        if array.null_count:
            if self.mask is not None:
                self.mask[self.n : self.n + size] = array.is_null().to_numpy(zero_copy_only=False)
            fill = {"float": np.nan, "category": -1, "bool": False}.get(kind, 0)
            array = pc.fill_null(array, _NAT if kind in ("datetime", "timedelta") else fill)
        elif self.mask is not None:
            self.mask[self.n : self.n + size] = False
        self.values[self.n : self.n + size] = array.to_numpy(zero_copy_only=False)
        self.n += size

    def arrow(self) -> pa.Array:
        """The column as one Arrow array (for the ids that related lookups need)."""
        if self.values is None:
            return pa.chunked_array(self.chunks, self.spec.arrow_type).combine_chunks()
        mask = None if self.mask is None else self.mask[: self.n]
        return pa.array(self.values[: self.n], mask=mask)

    def to_pandas(self) -> Any:
        """The pandas array of the column; the column is empty afterwards."""
        spec = self.spec
        if spec.kind == "object":
            out = np.empty(len(self), dtype=object)
            out[:] = [v for chunk in self.chunks for v in chunk]
            return out
        if self.values is None:
            array = pa.chunked_array(self.chunks, spec.arrow_type)
            self.chunks = []
            if spec.kind == "text":
                return pd.StringDtype("pyarrow", na_value=np.nan).__from_arrow__(array)
            return pd.arrays.ArrowExtensionArray(array)  # list<string>
        values, mask, self.values, self.mask = self.values, self.mask, None, None
        values.resize(self.n, refcheck=False)
        if mask is not None:
            mask.resize(self.n, refcheck=False)
        if spec.kind == "int":
            return values if mask is None else pd.arrays.IntegerArray(values, mask)
        if spec.kind == "bool":
            return pd.arrays.BooleanArray(values, mask)
        if spec.kind == "category":
            dtype = pd.CategoricalDtype(list(spec.categories), ordered=True)
            return pd.Categorical.from_codes(values, dtype=dtype)
        if spec.kind == "datetime":
            stamps = pd.Series(values.view("M8[us]"), copy=False)
            return (stamps.dt.tz_localize(spec.tz) if spec.tz else stamps).array
        if spec.kind == "timedelta":
            return values.view("m8[us]")
        return values  # float64


def _frame(columns: list[_Column]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    n = len(columns[0]) if columns else 0
    for column in columns:
        data[column.spec.name] = column.to_pandas()
    # copy=False keeps each column its own block: consolidating would copy every column.
    return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)


# ---------------------------------------------------------------------------------------------
# Readers: each runs a statement and returns finished chunks per column.


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


class _SQLAlchemyReader:
    """Reads through an AsyncConnection (the engine's own driver), in chunks."""

    name = "sqlalchemy"

    def __init__(self, conn: AsyncConnection, *, sqlite: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite

    def query(self, stmt: SelectBase, specs: list[_Spec]) -> _Query:
        if self.sqlite:
            return _sqlite_raw_query(stmt, specs, flag_nulls=False)
        return _categories_as_text(stmt, specs)

    async def count(self, stmt: SelectBase) -> int:
        total = await self.conn.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        return int(total or 0)

    async def fetch(
        self, query: _Query, *, chunksize: int, on_rows: Callable[[int], None] | None = None
    ) -> list[_Column]:
        out = [_Column(spec) for spec in query.specs]
        result = await self.conn.stream(query.stmt)
        async for rows in result.partitions(chunksize):
            columns = list(zip(*rows, strict=True))
            for column, (v, f) in zip(out, query.layout, strict=True):
                spec = column.spec
                if spec.kind == "object":
                    column.append(list(columns[v]))
                    continue
                raw = _raw_from_python(spec, columns[v])
                flags = None if f is None else pa.array(columns[f], pa.int64())
                column.append(_finish(spec, raw, flags))
            if on_rows:
                on_rows(len(rows))
        return out


class _FastReaderFailed(Exception):
    """The ADBC driver failed; the SQLAlchemy reader takes over (or, if asked for, it is raised)."""


def _compile(stmt: SelectBase, dialect: Dialect, *, literals: bool) -> tuple[str, list[Any]]:
    """SQL text and positional parameters for an ADBC driver.

    With ``literals`` (PostgreSQL: ADBC streams through COPY only for statements without
    parameters; with parameters it builds the whole result as one batch, slower and all in
    memory), plain values (str, int, float, bool, None, datetimes) are rendered as literals by
    SQLAlchemy's compiler for the dialect, which escapes them for the server's settings.
    Anything else is sent as a bound parameter, processed as SQLAlchemy would.
    """
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    names = compiled.positiontup or []
    plain = (str, int, float, type(None), dt.datetime)
    if literals and all(isinstance(params[n], plain) for n in names):
        try:
            return stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}).string, []
        except CompileError:
            pass
    processors: Any = compiled._bind_processors
    values = [processors[n](params[n]) if n in processors else params[n] for n in names]
    # str subclasses (StrEnum members) as plain str: the drivers bind by exact type.
    return compiled.string, [str(v) if isinstance(v, str) else v for v in values]


async def _opened_in_thread(open_: Callable[[], Any], close: Callable[[Any], Any]) -> Any:
    """``open_()`` in a worker thread; if the caller is cancelled meanwhile, what it opened is
    closed once the thread is done (a thread cannot be interrupted)."""
    task = asyncio.ensure_future(asyncio.to_thread(open_))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await asyncio.to_thread(close, await task)
        raise


class _ThreadedReader:
    """A fast reader: its blocking driver runs in a worker thread, the event loop stays free."""

    name = "adbc"

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.cancelled = threading.Event()

    def query(self, stmt: SelectBase, specs: list[_Spec]) -> _Query:
        return _plain_query(stmt, specs)

    def _fetch_sync(
        self, query: _Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[_Column]:
        raise NotImplementedError

    async def open(self) -> None:
        """Connect (in a worker thread)."""

    async def close(self) -> None:
        """End the read transaction and let go of the connection."""

    def _interrupt(self) -> None:
        """Stop a running fetch from the event loop's thread (it is being cancelled)."""

    async def fetch(
        self, query: _Query, *, chunksize: int, on_rows: Callable[[int], None] | None = None
    ) -> list[_Column]:
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
            [_Spec("n", "int", nullable=False)],
        )
        (column,) = await self.fetch(query, chunksize=DEFAULT_CHUNKSIZE)
        return int(column.values[0]) if column.n and column.values is not None else 0


class _PostgresReader(_ThreadedReader):
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
            self.conn = await _opened_in_thread(self._connect, lambda conn: conn.close())
        except Exception as exc:
            raise _FastReaderFailed(redact(str(exc))) from exc

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
        self, query: _Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[_Column]:
        import adbc_driver_manager

        out = [_Column(spec) for spec in query.specs]
        sql, params = _compile(query.stmt, self.dialect, literals=True)
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
                for column, array in zip(out, _finish_batch(query, batch.columns), strict=True):
                    column.append(array)
                if on_rows:
                    on_rows(batch.num_rows)
        except (adbc_driver_manager.Error, pa.ArrowException, OSError) as exc:
            raise _FastReaderFailed(redact(str(exc))) from exc
        finally:
            self._cursor = None
            cursor.close()
        return out


# The SQLite helper process. ADBC's SQLite driver carries its own copy of SQLite (3.53 here,
# beside Python's 3.40), and two copies in one process break SQLite's POSIX locks: closing a
# file in one copy drops the locks the other copy holds, and a copy that finds no lock taken by
# itself may reset the WAL index others are using (the SQLite documentation lists it under
# "how to corrupt a database"; taskkit.sqlite_writer hit it as "disk I/O error"). So the driver
# runs in a child process, kept for the next read (starting one costs about half a second),
# and batches come back as Arrow IPC while this process converts the previous ones.
#
# Protocol: one JSON request per line on stdin; replies are frames <kind: 1 byte><size: u64>
# <payload>: K ok, B an Arrow IPC stream holding one batch, S switched to the NULL-flagged SQL,
# D done, E error (the child is then ready for the next request).
_SQLITE_CHILD = r"""
import json, select, struct, sys
import pyarrow as pa
import adbc_driver_manager as manager
import adbc_driver_sqlite as driver

out = sys.stdout.buffer
db = conn = None

def send(kind, payload=b""):
    out.write(kind + struct.pack("<Q", len(payload)))
    if len(payload):
        out.write(payload)
    out.flush()

def run(sql, params, batch_rows):
    statement = manager.AdbcStatement(conn)
    statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
    statement.set_sql_query(sql)
    if params:
        names = [str(i) for i in range(len(params))]
        statement.bind(pa.record_batch([pa.array([p]) for p in params], names=names))
    handle, _ = statement.execute_query()
    return statement, pa.RecordBatchReader.from_stream(handle)

def untyped(batch, checks):
    for index, kind in checks:
        t = batch.schema.field(index).type
        if not (pa.types.is_floating(t) if kind == "float" else pa.types.is_string(t)):
            return True
    return False

def query(request):
    sqls = [s for s in request["sql"] if s]
    for attempt, sql in enumerate(sqls):
        statement, reader = run(sql, request["params"], request["batch_rows"])
        try:
            batches = iter(reader)
            first = next(batches, None)
            if first is not None and attempt + 1 < len(sqls) and untyped(first, request["checks"]):
                send(b"S")
                continue
            while first is not None:
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, first.schema) as writer:
                    writer.write_batch(first)
                send(b"B", sink.getvalue())
                first = next(batches, None)
            send(b"D")
            return
        finally:
            reader.close()
            statement.close()

def end():
    global db, conn
    if conn is not None:
        conn.rollback()
        conn.close()
    if db is not None:
        db.close()
    db = conn = None

stdin = sys.stdin.buffer
while True:
    try:  # idle too long: exit (the parent does not reuse a helper this old)
        if not select.select([stdin], [], [], float(sys.argv[1]))[0]:
            break
    except (OSError, ValueError):  # no select on this pipe: just wait
        pass
    line = stdin.readline()
    if not line:
        break  # the parent is gone
    request = json.loads(line)
    try:
        if request["op"] == "begin":
            end()
            db = driver.connect(request["path"])
            conn = manager.AdbcConnection(db)
            conn.set_autocommit(False)  # one deferred read transaction: one snapshot
            statement, reader = run("PRAGMA busy_timeout=%d" % request["busy_timeout_ms"], [], 1)
            reader.read_all(), reader.close(), statement.close()
            send(b"K")
        elif request["op"] == "query":
            query(request)
        else:
            end()
            send(b"K")
    except Exception as exc:
        send(b"E", ("%s: %s" % (type(exc).__name__, exc)).encode())
"""


class _SQLiteChild:
    """One helper process running ADBC's SQLite driver; idle ones wait for the next read."""

    _idle: ClassVar[list[_SQLiteChild]] = []
    _lock = threading.Lock()
    IDLE_MAX = 2
    # An idle helper exits after EXIT_AFTER_S (a notebook left open should not keep one, and
    # its memory, forever); it is not reused after REUSE_FOR_S, so it never exits under a read.
    EXIT_AFTER_S = 300.0
    REUSE_FOR_S = 240.0

    def __init__(self) -> None:
        self.pid = os.getpid()  # a forked copy of this process must not share its pipes
        self.released_at = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SQLITE_CHILD, str(self.EXIT_AFTER_S)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        if sys.platform == "linux" and self.proc.stdout is not None:
            import fcntl

            with contextlib.suppress(OSError):  # fewer wake-ups per batch; 1 MiB is the default cap
                fcntl.fcntl(self.proc.stdout.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ

    @classmethod
    def acquire(cls) -> _SQLiteChild:
        with cls._lock:
            while cls._idle:
                child = cls._idle.pop()
                if child.pid != os.getpid():
                    continue  # started by the process this one was forked from: its own
                fresh = time.monotonic() - child.released_at < cls.REUSE_FOR_S
                if fresh and child.proc.poll() is None:
                    return child
                child.kill()
        return cls()

    def release(self) -> None:
        with self._lock:
            if self.proc.poll() is None and len(self._idle) < self.IDLE_MAX:
                self.released_at = time.monotonic()
                self._idle.append(self)
                return
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    @classmethod
    def stop_all(cls) -> None:
        with cls._lock:
            idle, cls._idle = cls._idle, []
        for child in idle:
            child.kill()

    def send(self, request: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:  # ValueError: its pipe was closed (killed)
            self.kill()
            raise _FastReaderFailed(f"the SQLite reader process is gone ({exc})") from exc

    def receive(self) -> tuple[bytes, bytes]:
        assert self.proc.stdout is not None
        try:
            head = self.proc.stdout.read(9)
            size = struct.unpack("<Q", head[1:])[0] if len(head) == 9 else 0
            payload = self.proc.stdout.read(size) if size else b""
        except ValueError:  # its pipe was closed: it was killed (a cancelled read)
            head = payload = b""
            size = 0
        if len(head) < 9 or len(payload) < size:
            self.kill()
            raise _FastReaderFailed(
                f"the SQLite reader process ended (exit status {self.proc.returncode})"
            )
        if head[:1] == b"E":
            raise _FastReaderFailed(payload.decode(errors="replace"))
        return head[:1], payload


atexit.register(_SQLiteChild.stop_all)


def _json_param(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise _FastReaderFailed(f"a parameter of type {type(value).__name__} (bound by SQLAlchemy)")


class _SQLiteReader(_ThreadedReader):
    """ADBC's SQLite driver in a helper process (see _SQLITE_CHILD for why not here)."""

    name = "adbc-sqlite"

    def __init__(self, path: str, dialect: Dialect) -> None:
        super().__init__(dialect)
        self.path = path
        self.child: _SQLiteChild | None = None

    async def open(self) -> None:
        self.child = await _opened_in_thread(self._begin, self._end)

    def _begin(self) -> _SQLiteChild:
        from taskkit.db import SQLITE_BUSY_TIMEOUT_MS

        try:
            child = _SQLiteChild.acquire()
        except OSError as exc:
            raise _FastReaderFailed(f"cannot start the SQLite reader process: {exc}") from exc
        request = {"op": "begin", "path": self.path, "busy_timeout_ms": SQLITE_BUSY_TIMEOUT_MS}
        try:
            child.send(request)
            child.receive()
        except _FastReaderFailed:
            child.release()  # an E reply leaves it ready for the next read; a dead one goes
            raise
        return child

    async def close(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            await asyncio.to_thread(self._end, child)

    @staticmethod
    def _end(child: _SQLiteChild) -> None:
        try:
            child.send({"op": "end"})
            child.receive()
        except _FastReaderFailed:
            child.kill()
            return
        child.release()

    def query(self, stmt: SelectBase, specs: list[_Spec]) -> _Query:
        query = _sqlite_raw_query(stmt, specs, flag_nulls=False)
        query.flagged = _sqlite_raw_query(stmt, specs, flag_nulls=True)
        return query

    def _interrupt(self) -> None:
        if self.child is not None:
            self.child.kill()  # the reading thread then sees the end of its pipe

    def _fetch_sync(
        self, query: _Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[_Column]:
        child = self.child
        assert child is not None
        out = [_Column(spec) for spec in query.specs]
        sql, params = _compile(query.stmt, self.dialect, literals=False)
        flagged = query.flagged
        checks = [
            (v, "float" if spec.kind == "float" else "text")
            for spec, (v, _) in zip(query.specs, query.layout, strict=True)
            if spec.kind in _SQLITE_FILLERS
        ]
        child.send(
            {
                "op": "query",
                "sql": [
                    sql,
                    None
                    if flagged is None
                    else _compile(flagged.stmt, self.dialect, literals=False)[0],
                ],
                "params": [_json_param(p) for p in params],
                "checks": checks,
                "batch_rows": chunksize,
            }
        )
        # A second thread empties the pipe while this one converts: the child reads SQLite on
        # its own core meanwhile (a pipe holds 64 KiB; the child would wait for us otherwise).
        frames: queue.Queue[tuple[bytes, bytes] | BaseException] = queue.Queue(maxsize=1)

        def drain() -> None:
            while True:
                try:
                    frame: tuple[bytes, bytes] | BaseException = child.receive()
                except BaseException as exc:  # handed over to the converting thread
                    frame = exc
                frames.put(frame)
                if not isinstance(frame, tuple) or frame[0] == b"D":
                    return

        drainer = threading.Thread(target=drain, name="taskkit-sqlite-pipe", daemon=True)
        drainer.start()
        try:
            while True:
                item = frames.get()
                if isinstance(item, BaseException):
                    raise item
                kind, payload = item
                if kind == b"D":
                    return out
                if kind == b"S" and flagged is not None:
                    query = flagged
                    continue
                batch = pa.ipc.open_stream(payload).read_next_batch()
                del item, payload
                for column, array in zip(out, _finish_batch(query, batch.columns), strict=True):
                    column.append(array)
                if on_rows:
                    on_rows(batch.num_rows)
        except _FastReaderFailed:
            raise
        except BaseException:
            # Frames are left unread (a value outside its categories, an interruption): the
            # child cannot be reused. Killing it ends the draining thread at its next read.
            child.kill()
            self.child = None
            while drainer.is_alive():
                with contextlib.suppress(queue.Empty):
                    frames.get(timeout=0.1)
            raise
        finally:
            drainer.join()


# ---------------------------------------------------------------------------------------------
# Where to read from, and with which reader.


@dataclass
class _Source:
    """Where a read goes: an engine (either reader), or a connection to read through."""

    engine: AsyncEngine | None = None
    conn: AsyncConnection | None = None
    # The caller's connection outside a transaction: a read through it starts its transaction
    # DEFERRED and rolls it back. Otherwise `conn` is in the caller's transaction, left as it
    # is (its uncommitted writes too), unless `end` ends a transaction the read opened.
    idle: bool = False
    end: Callable[[], Any] | None = None
    why_not_fast: str | None = None


async def _resolve(source: Any) -> _Source:
    """Decide what a source reads through.

    A session or connection inside a transaction may hold writes that no other connection can
    see yet, so it is read through its own connection (the SQLAlchemy reader), and its
    transaction is left open. Otherwise the read goes through the engine, where the fast
    reader can serve it.
    """
    if isinstance(source, SAAsyncSession):
        pending = bool(source.new or source.dirty or source.deleted)
        if not source.in_transaction() and not pending and isinstance(source.bind, AsyncEngine):
            return _Source(engine=source.bind)
        if not source.in_transaction() and not pending:  # bound otherwise: read through it
            conn = await source.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
            return _Source(
                conn=conn, end=source.commit, why_not_fast="the session is not bound to an engine"
            )
        if pending and source.autoflush:
            await source.flush()  # what session.exec() would do first
        return _Source(
            conn=await source.connection(),
            why_not_fast="the session has uncommitted changes or an open transaction, which "
            "only its own connection can see",
        )
    if isinstance(source, AsyncConnection):
        if source.closed or source.invalidated:
            state = "closed" if source.closed else "invalidated"
            raise InvalidArgumentError(
                f"source is an AsyncConnection that is {state}; pass an open connection, its "
                "engine, or a session"
            )
        if source.in_transaction():
            return _Source(
                conn=source,
                why_not_fast="the connection is inside a transaction, whose uncommitted writes "
                "only it can see",
            )
        return _Source(engine=source.engine, conn=source, idle=True)
    if isinstance(source, AsyncEngine):
        return _Source(engine=source)
    raise InvalidArgumentError(
        f"source must be an AsyncEngine, AsyncConnection or AsyncSession (or a list of model "
        f"instances, without stmt), got {type(source).__name__}; taskkit.connect() makes an "
        "async engine"
    )


def _fast_reader(engine: AsyncEngine, specs: list[_Spec]) -> tuple[str, str] | str:
    """``(reader name, location)`` when the fast reader can serve, else the reason it cannot."""
    slow = [s.name for s in specs if s.kind not in _FAST_KINDS]
    if slow:
        return f"column(s) {', '.join(slow)} have types only SQLAlchemy converts"
    url = engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        if is_memory_sqlite(url):
            return "an in-memory SQLite database cannot be reached by a second driver"
        if url.query:
            return "SQLite URLs with options are read through SQLAlchemy"
        if not os.path.isfile(url.database or ""):
            return f"SQLite file {url.database!r} does not exist"
        return "adbc-sqlite", os.path.abspath(url.database or "")
    if backend == "postgresql":
        return "adbc-postgresql", _libpq_uri(engine)
    return f"no fast reader for {backend}"


def _libpq_uri(engine: AsyncEngine) -> str:
    """The engine's asyncpg URL as libpq (which ADBC uses) understands it."""
    url = engine.url
    query: dict[str, Any] = {"connect_timeout": "5"}
    for name, value in url.query.items():
        value = value if isinstance(value, str) else value[-1]
        if name == "ssl":
            query["sslmode"] = {"true": "require", "false": "disable"}.get(value.lower(), value)
        elif name == "timeout":
            query["connect_timeout"] = str(max(1, round(float(value))))
        elif name in ("target_session_attrs", "krbsrvname", "passfile"):
            query[name] = value
        # asyncpg-only settings (statement caches, ...) mean nothing to libpq
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    """``engine.connect()``; a database that cannot be reached is a DatabaseUnavailableError."""
    try:
        return await engine.connect()
    except Exception:
        from taskkit.db import ping

        await ping(engine)  # raises DatabaseUnavailableError, naming the database
        raise


async def _open_fast_reader(engine: AsyncEngine, name: str, where: str) -> _ThreadedReader:
    dialect = engine.sync_engine.dialect
    reader: _SQLiteReader | _PostgresReader
    if name == "adbc-sqlite":
        reader = _SQLiteReader(where, dialect)
    else:
        # The engine's sessions may resolve names through a search_path set in connect_args;
        # asking the server also initializes the dialect (string escaping follows the server).
        conn = await _connect(engine)
        try:
            search_path = await conn.scalar(sa.text("SELECT current_setting('search_path')"))
        finally:
            await conn.close()
        reader = _PostgresReader(where, str(search_path), dialect)
    await reader.open()
    return reader


# ---------------------------------------------------------------------------------------------
# related=: columns from the project and worker tables, looked up by the ids in the frame.


def _column_of(columns: list[_Column], origin: tuple[str, str], related: str) -> pa.Array:
    for column in columns:
        if origin in column.spec.origin:
            return column.arrow().cast(pa.int64())
    table, name = origin
    raise InvalidArgumentError(
        f"related={related!r} needs {table.capitalize()}.{name} among the selected columns "
        f"(select(Task) has it); stmt selects: {', '.join(c.spec.name for c in columns)}"
    )


async def _lookup(reader: Any, stmt: Any, key: Any, ids: pa.Array, chunksize: int) -> Any:
    unique = pc.unique(ids.drop_null())
    if len(unique) <= IN_LIST_MAX:
        stmt = stmt.where(key.in_(unique.to_pylist()))
    specs = _specs(stmt)
    columns = await reader.fetch(reader.query(stmt, specs), chunksize=chunksize)
    return [column.arrow() for column in columns]


async def _related_column(
    reader: Any, name: str, columns: list[_Column], chunksize: int
) -> _Column:
    if name == "project":
        ids = _column_of(columns, ("task", "project_id"), name)
        project_ids, names = await _lookup(
            reader, sa.select(col(Project.id), col(Project.name)), Project.id, ids, chunksize
        )
        found = pc.index_in(ids, value_set=project_ids)
        column = _Column(_Spec(RELATED[name], "text"))
        column.append(names.take(found))
        return column
    ids = _column_of(columns, ("task", "id"), name)
    link = sa.select(col(TaskWorkerLink.task_id), col(TaskWorkerLink.worker_id))
    task_ids, worker_ids = await _lookup(reader, link, TaskWorkerLink.task_id, ids, chunksize)
    # Sort in Arrow, not SQL: byte order is the same on every backend, collations are not.
    order = pc.sort_indices(
        pa.table({"t": task_ids, "w": worker_ids}), [("t", "ascending"), ("w", "ascending")]
    )
    task_sorted = task_ids.take(order).to_numpy()
    workers = worker_ids.take(order)
    keys, starts = np.unique(task_sorted, return_index=True)
    ends = np.append(starts[1:], len(task_sorted))
    wanted = pc.fill_null(ids, -1).to_numpy()
    lengths = np.zeros(len(wanted), np.int64)
    first = np.zeros(len(wanted), np.int64)
    if len(keys):
        pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        hit = keys[pos] == wanted
        lengths[hit] = (ends[pos] - starts[pos])[hit]
        first[hit] = starts[pos][hit]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    # Row i's workers are workers[first[i] : first[i] + lengths[i]], laid end to end.
    take = np.repeat(first - offsets[:-1], lengths) + np.arange(offsets[-1])
    values = workers.take(pa.array(take, pa.int64())).cast(pa.string())
    column = _Column(_Spec(RELATED[name], "list", nullable=False))
    column.append(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values))
    return column


# ---------------------------------------------------------------------------------------------
# Argument checks.


def _check_stmt(stmt: Any) -> SelectBase:
    if isinstance(stmt, SelectBase):
        return stmt
    if isinstance(stmt, str):
        got = f"a string ({stmt[:40]!r}); wrap SQL as text(sql).columns(Task.id, ...)"
    elif isinstance(stmt, sa.sql.ClauseElement):
        got = f"{type(stmt).__name__} ({str(stmt).split(None, 1)[0]} statement)"
    else:
        got = type(stmt).__name__
    raise InvalidArgumentError(f"stmt must be a select() (or union of selects), got {got}")


def _check_chunksize(chunksize: Any) -> int:
    if chunksize is None:
        return DEFAULT_CHUNKSIZE
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise InvalidArgumentError(
            f"chunksize must be a positive number of rows (or None for {DEFAULT_CHUNKSIZE:,}), "
            f"got {chunksize!r}"
        )
    return chunksize


def _check_related(related: Any) -> tuple[str, ...]:
    if isinstance(related, str):
        related = (related,)
    try:
        names = tuple(dict.fromkeys(related))
    except TypeError:
        raise InvalidArgumentError(
            f"related must be a sequence of names from {', '.join(RELATED)}, got {related!r}"
        ) from None
    for name in names:
        if name not in RELATED:
            raise InvalidArgumentError(
                f"related has unknown name {name!r}; choose from {', '.join(RELATED)}"
            )
    return names


def _interactive() -> bool:
    """A terminal or a Jupyter kernel: somewhere a progress bar is seen, not logged."""
    if sys.stderr is not None and sys.stderr.isatty():
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


# ---------------------------------------------------------------------------------------------
# The public functions.


async def _run(
    reader: Any,
    stmt: SelectBase,
    specs: list[_Spec],
    related: tuple[str, ...],
    chunksize: int,
    progress: bool | None,
) -> pd.DataFrame:
    bar = None
    if progress is True or (progress is None and _interactive()):
        # The count costs one more query, so it runs only where a bar would be seen.
        total = await reader.count(stmt)
        if progress is True or total >= PROGRESS_MIN_ROWS:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit=" rows", unit_scale=True, leave=False, desc="reading")
    try:
        query = reader.query(stmt, specs)
        columns = await reader.fetch(query, chunksize=chunksize, on_rows=bar and bar.update)
    finally:
        if bar is not None:
            bar.close()
    extra = [await _related_column(reader, r, columns, chunksize) for r in related]
    log.debug("read %s column(s) through %s", len(specs), reader.name)
    return _frame(columns + extra)


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
    never by the values: ``Status``/``Priority`` fields (any Enum-typed model field) are
    ordered ``Categorical`` with the declared categories in declared order; timestamps
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
            ``"workers"`` adds ``worker_ids``, a list of worker ids per task sorted by id
            (needs ``Task.id``). ``df.explode("worker_ids")`` gives one row per task and
            worker (a task without workers keeps one row with ``<NA>``).
        chunksize: rows read per batch (default 65,536): what a progress step and the
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
    stmt = _check_stmt(stmt)
    names = _check_related(related)
    rows = _check_chunksize(chunksize)
    if progress not in (None, True, False):
        raise InvalidArgumentError(f"progress must be True, False or None, got {progress!r}")
    if reader not in READERS:
        raise InvalidArgumentError(f"reader must be one of {', '.join(READERS)}, got {reader!r}")
    specs = _specs(stmt)
    clash = [RELATED[r] for r in names if RELATED[r] in {s.name for s in specs}]
    if clash:
        raise InvalidArgumentError(
            f"related would add {', '.join(clash)}, which stmt already selects; label it "
            "otherwise or leave the related name out"
        )
    where = await _resolve(source)
    fast = where.why_not_fast or (
        _fast_reader(where.engine, specs) if where.engine else "no engine"
    )
    if reader == "adbc" and isinstance(fast, str):
        raise InvalidArgumentError(f"reader='adbc' cannot serve this read: {fast}")
    if reader != "sqlalchemy" and where.engine is not None and not isinstance(fast, str):
        try:
            adbc = await _open_fast_reader(where.engine, *fast)
        except _FastReaderFailed as exc:
            adbc, failure = None, exc
        if adbc is not None:
            try:
                return await _run(adbc, stmt, specs, names, rows, progress)
            except _FastReaderFailed as exc:
                failure = exc
            finally:
                await adbc.close()
        if reader == "adbc":
            raise TaskkitError(f"the ADBC reader failed: {redact(str(failure))}") from failure
        log.info("ADBC reader failed (%s); reading through SQLAlchemy", redact(str(failure)))
    return await _run_sqlalchemy(where, stmt, specs, names, rows, progress)


async def _run_sqlalchemy(
    where: _Source,
    stmt: SelectBase,
    specs: list[_Spec],
    related: tuple[str, ...],
    chunksize: int,
    progress: bool | None,
) -> pd.DataFrame:
    async def run(conn: AsyncConnection) -> pd.DataFrame:
        reader = _SQLAlchemyReader(conn, sqlite=conn.dialect.name == "sqlite")
        return await _run(reader, stmt, specs, related, chunksize, progress)

    conn = where.conn
    if conn is not None and where.idle:
        # The transaction this read opens starts DEFERRED (taskkit's default IMMEDIATE is for
        # writers) and is ended; the connection's options are restored.
        before = conn.sync_connection.get_execution_options().get(  # type: ignore[union-attr]
            SQLITE_BEGIN_OPTION, "IMMEDIATE"
        )
        await conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        try:
            return await run(conn)
        finally:
            await conn.rollback()
            await conn.execution_options(**{SQLITE_BEGIN_OPTION: before})
    if conn is not None:
        try:
            return await run(conn)
        finally:
            if where.end is not None:
                await where.end()
    assert where.engine is not None
    # A read should not queue behind SQLite writers (taskkit begins with IMMEDIATE for them).
    conn = await _connect(where.engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"}))
    try:
        return await run(conn)
    finally:
        await conn.close()  # rolls back the read transaction


def _annotation_spec(name: str, annotation: Any) -> _Spec:
    """The spec of a pydantic field (non-table models such as TaskRead)."""
    args = typing.get_args(annotation)
    nullable = typing.get_origin(annotation) in (typing.Union, types.UnionType) and (
        type(None) in args
    )
    if nullable:
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else object
    categories = _enum_values(annotation)
    if categories is not None:
        return _Spec(name, "category", nullable, categories)
    kinds: list[tuple[type, Kind]] = [
        (bool, "bool"), (int, "int"), (float, "float"), (dt.datetime, "datetime"),
        (dt.timedelta, "timedelta"), (str, "text"),
    ]  # fmt: skip
    for python_type, kind in kinds:
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return _Spec(name, kind, nullable)
    return _Spec(name, "object", nullable)


def _value_spec(name: str, values: Sequence[Any]) -> _Spec:
    """The spec of a column known only by its values (rows whose statement is unknown)."""
    present = [v for v in values if v is not None]
    nullable = len(present) < len(values)
    if not present:
        return _Spec(name, "object", nullable)
    return _annotation_spec(name, type(present[0]) | None if nullable else type(present[0]))


def _row_specs(row: Row[Any]) -> list[_Spec] | None:
    """Specs of a Row from the columns its result remembers (SQLAlchemy keeps them per row)."""
    try:
        keymap = row._parent._keymap
        by_index: dict[int, ColumnElement[Any]] = {}
        for key, record in keymap.items():
            if isinstance(key, ColumnElement):
                by_index.setdefault(record[0], key)
        if len(by_index) != len(row):
            return None
        return _specs(sa.select(*(by_index[i].label(n) for i, n in enumerate(row._fields))))
    except Exception:  # the metadata is SQLAlchemy's own business; fall back to the values
        return None


def models_to_frame(items: Iterable[Any], model: Any = None) -> pd.DataFrame:
    """Model instances or rows already in memory as a DataFrame, with the dtypes of the models.

    The frame of a list of ``Task`` has the columns and dtypes of
    ``await to_dataframe(engine, select(Task))``; so does ``TaskRead``.

    Args:
        items: instances of one SQLModel/pydantic model, or SQLAlchemy ``Row`` objects (a row
            holding one model instance counts as that instance).
        model: what the items are, for the column types when ``items`` is empty, or to type
            rows exactly: a model class, or the select the rows came from. Rows without it are
            typed from the columns their result remembers, else from their values.

    Returns:
        One row per item; with no items and no ``model``, a frame with no columns.

    Raises:
        InvalidArgumentError: items of different kinds, an item that is not a model instance
            or row, an expired instance attribute, or a ``model`` that is not a model or select.
        InvalidDataError: a value that does not fit its declared type or categories.
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise InvalidArgumentError(
            f"items must be a list of model instances or rows, got {type(items).__name__}"
        )
    rows = [
        item[0] if isinstance(item, Row) and len(item) == 1 and isinstance(item[0], BaseModel)
        else item
        for item in items
    ]  # fmt: skip
    if model is None and rows:
        first = rows[0]
        if not isinstance(first, (BaseModel, Row)):
            raise InvalidArgumentError(
                f"items must be model instances or rows, got {type(first).__name__}"
            )
        model = type(first) if isinstance(first, BaseModel) else None
    if model is None and not rows:
        return pd.DataFrame()

    getters: list[Callable[[Any], Any]]
    if isinstance(model, SelectBase):
        specs = _specs(model)
        getters = [lambda r, i=i: r[i] for i in range(len(specs))]  # type: ignore[misc]
        kind: type = Row
    elif isinstance(model, type) and issubclass(model, BaseModel):
        kind = model
        table = getattr(model, "__table__", None)
        if isinstance(table, sa.Table):
            specs = _specs(sa.select(model))
            mapper = sa.inspect(model)
            keys = [mapper.get_property_by_column(table.c[s.name]).key for s in specs]
            getters = [lambda obj, k=k: _loaded(obj, k) for k in keys]  # type: ignore[misc]
        else:
            specs = [_annotation_spec(n, f.annotation) for n, f in model.model_fields.items()]
            getters = [lambda obj, n=s.name: getattr(obj, n) for s in specs]  # type: ignore[misc]
    elif model is None:  # rows, typed by their result's columns or their values
        kind = Row
        first_row = cast(Row[Any], rows[0])
        fields = first_row._fields
        specs = _row_specs(first_row) or [
            _value_spec(n, [cast(Row[Any], r)[i] for r in rows]) for i, n in enumerate(fields)
        ]
        getters = [lambda r, i=i: r[i] for i in range(len(specs))]  # type: ignore[misc]
    else:
        raise InvalidArgumentError(
            f"model must be a model class or a select(), got {type(model).__name__}"
        )
    for position, item in enumerate(rows):
        if not isinstance(item, kind):
            raise InvalidArgumentError(
                f"items[{position}] is a {type(item).__name__}, expected {kind.__name__} like "
                "the others"
            )
    columns: list[_Column] = []
    for spec, get in zip(specs, getters, strict=True):
        values = [get(item) for item in rows]
        column = _Column(spec)
        if spec.kind == "object":
            column.append(values)
        else:
            column.append(_finish(spec, _raw_from_python(spec, values)))
        columns.append(column)
    return _frame(columns)


def _loaded(obj: Any, key: str) -> Any:
    # Read the loaded value, never trigger a lazy load: in async code that would fail deep
    # inside SQLAlchemy (MissingGreenlet).
    try:
        return obj.__dict__[key]
    except KeyError:
        raise InvalidArgumentError(
            f"{type(obj).__name__}.{key} is not loaded (expired after a commit?); use "
            "taskkit.session() (expire_on_commit=False) or await session.refresh(obj)"
        ) from None
