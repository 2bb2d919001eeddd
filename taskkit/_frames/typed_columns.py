"""Raw Arrow values as the typed columns of a frame, and the frame made of them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._errors import InvalidDataError
from taskkit._frames.column_types import Spec
from taskkit._frames.list_columns import id_lists

# ---------------------------------------------------------------------------------------------
# Raw column -> final Arrow array (shared by both readers, which is what keeps them identical).


def _bad_values(spec: Spec, raw: pa.Array, bad: pa.Array, allowed: str) -> InvalidDataError:
    values = pc.unique(raw.filter(bad)).to_pylist()[:5]
    shown = ", ".join(repr(v) for v in values)
    return InvalidDataError(
        f"column {spec.name!r} holds {shown}, not {allowed}; the database has values its "
        "model does not allow (written by another tool?). Fix those rows, or select the "
        f"column as plain text: type_coerce(<column>, String).label({spec.name!r})"
    )


def _parse_timestamps(spec: Spec, raw: pa.Array) -> pa.Array:
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


def finish(spec: Spec, raw: pa.Array, null_flags: pa.Array | None = None) -> pa.Array:
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


def raw_from_python(spec: Spec, values: Sequence[Any]) -> pa.Array:
    """A column of Python values (the SQLAlchemy reader) as the raw Arrow array finish reads."""
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


class Column:
    """One result column being collected batch by batch, in the memory layout of its dtype.

    Numeric columns (ints, floats, booleans, timestamps, category codes) go straight into one
    numpy array that grows by doubling with realloc (mremap for large arrays: no copy, and
    the untouched tail is never resident), so a frame never exists twice in memory. Text
    columns stay Arrow chunks, which pandas' ``str`` dtype adopts as it is; list columns
    become ``object`` columns of lists at the end (see ``lists``). A column read in one piece
    can also be handed over finished, as its pandas array (``ready``).
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.n = 0
        self.ready: Any = None
        self.chunks: list[Any] = []
        numpy_type = _NUMPY_TYPES.get(spec.kind)
        self.values: np.ndarray[Any, Any] | None = (
            None if numpy_type is None else np.empty(0, numpy_type)
        )
        masked = (spec.kind == "int" and spec.nullable) or spec.kind == "bool"
        self.mask = np.empty(0, np.bool_) if masked else None

    @classmethod
    def ready_made(cls, spec: Spec, array: Any) -> Column:
        """A column whose pandas array (of ``spec``'s dtype) is already built."""
        column = cls(spec)
        column.ready = array
        return column

    def __len__(self) -> int:
        if self.ready is not None:
            return len(self.ready)
        return self.n if self.values is not None else sum(len(c) for c in self.chunks)

    def append_python(self, values: Sequence[Any]) -> None:
        """Add a batch of Python values (the SQLAlchemy reader's, a model's attributes)."""
        if self.spec.kind == "object":
            self.append(list(values))
        else:
            self.append(finish(self.spec, raw_from_python(self.spec, values)))

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
        if self.ready is not None:
            return pa.array(self.ready)
        if self.values is None:
            return pa.chunked_array(self.chunks, self.spec.arrow_type).combine_chunks()
        mask = None if self.mask is None else self.mask[: self.n]
        return pa.array(self.values[: self.n], mask=mask)

    def to_pandas(self) -> Any:
        """The pandas array of the column; the column is empty afterwards."""
        if self.ready is not None:
            ready, self.ready = self.ready, None
            return ready
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
            # list<string>: lists in an object column, the form that survives Parquet/CSV.
            return id_lists(array)
        values, mask, self.values, self.mask = self.values, self.mask, None, None
        values.resize(self.n, refcheck=False)
        if mask is not None:
            mask.resize(self.n, refcheck=False)
        if spec.kind == "int":
            return values if mask is None else pd.arrays.IntegerArray(values, mask)
        if spec.kind == "bool":
            return pd.arrays.BooleanArray(values, mask)
        if spec.kind == "category":
            return pd.Categorical.from_codes(values, dtype=categorical_dtype(spec.categories))
        if spec.kind == "datetime":
            # Microseconds since the epoch in UTC: the aware dtype reads them as UTC instants.
            dtype = pd.DatetimeTZDtype("us", spec.tz) if spec.tz else np.dtype("M8[us]")
            return pd.array(values.view("M8[us]"), dtype=dtype, copy=False)
        if spec.kind == "timedelta":
            return values.view("m8[us]")
        return values  # float64


@functools.lru_cache(maxsize=64)
def categorical_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    # Building a CategoricalDtype validates its categories: a tenth of a millisecond that a
    # small read would pay per column. Dtypes are immutable, so one can be shared.
    return pd.CategoricalDtype(list(categories), ordered=True)


@functools.lru_cache(maxsize=256)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    # Inferring the dtype of the column names is a third of building a small frame. An Index
    # is immutable but its ``name`` is not: each frame gets a (shallow) copy.
    return pd.Index(list(names))


def build_frame(columns: list[Column]) -> pd.DataFrame:
    n = len(columns[0]) if columns else 0
    if not columns:
        return pd.DataFrame({}, index=pd.RangeIndex(n))
    # copy=False keeps each column its own block: consolidating would copy every column.
    frame = pd.DataFrame(
        {i: column.to_pandas() for i, column in enumerate(columns)},
        index=pd.RangeIndex(n),
        copy=False,
    )
    frame.columns = _column_index(tuple(column.spec.name for column in columns)).copy()
    return frame
