"""SQLite's values as Python's ``sqlite3`` returns them, straight into the pandas arrays of a frame.

The in-process reader (``sqlite_inline_reader``) gets small results as rows of Python values. The
road every other reader takes (Arrow arrays, ``finish``, ``Column``) costs a few dozen
microseconds per column in fixed overhead, which is most of a ten-row read; here each column
is one numpy or Arrow call on the list of values. Only values whose meaning is plain take this
road: integers in integer columns, text in text columns, category values among the declared
categories, timestamps in the form SQLAlchemy writes. For anything else ``python_array``
returns ``None`` and the column takes the general road, which gives the same frame for what it
accepts and the same ``InvalidDataError`` for what it refuses.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from taskkit._frames.column_types import Spec
from taskkit._frames.typed_columns import categorical_dtype

_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's str dtype


@functools.lru_cache(maxsize=64)
def _codes(categories: tuple[str, ...]) -> dict[Any, int]:
    codes: dict[Any, int] = {value: code for code, value in enumerate(categories)}
    codes[None] = -1
    return codes


@functools.lru_cache(maxsize=8)
def _datetime_dtype(tz: str) -> pd.DatetimeTZDtype:
    return pd.DatetimeTZDtype("us", tz)


def _integers(
    values: Sequence[Any],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None] | None:
    """int64 values and the NULL mask (None: no NULL), if every value is a Python int or None
    (a float, text or an integer beyond int64 is for the general road, which refuses or
    converts it)."""
    array = np.array(values)
    if array.dtype == np.int64:
        return array, None
    if array.dtype != object:
        return None
    # Only exact ints may pass (numpy would truncate floats and parse text).
    if not all(type(v) is int for v in values if v is not None):
        return None
    mask = np.array([v is None for v in values], np.bool_)
    try:
        filled = np.array([0 if v is None else v for v in values], np.int64)
    except OverflowError:
        return None
    return filled, mask


def _timestamps(columns: Sequence[Sequence[Any]]) -> list[np.ndarray[Any, Any]] | None:
    """Text timestamp columns of equal length as naive datetime64[us] arrays (UTC), parsed in
    one Arrow call, or None if one of them holds a value of another form.

    Arrow's cast takes the one form SQLAlchemy writes ('YYYY-MM-DD HH:MM:SS.ffffff', UTC, no
    offset) and fails on anything else, which the general road parses or refuses.
    """
    n = len(columns[0])
    values = list(itertools.chain.from_iterable(columns))
    try:
        stamps = pa.array(values, pa.string()).cast(pa.timestamp("us"))
    except (TypeError, pa.ArrowException):
        return None
    naive = stamps.to_numpy(zero_copy_only=False)
    return [naive[i * n : (i + 1) * n] for i in range(len(columns))]


def _datetime_array(spec: Spec, naive: np.ndarray[Any, Any]) -> Any:
    if spec.tz is None:
        # A writable array of its own: a view of Arrow's buffer is read-only, and pandas fails
        # to assign into such a column (df.loc[0, name] = ...).
        return naive.copy()
    # Microseconds since the epoch in UTC: the aware dtype reads them as UTC instants (and
    # copies them into an array of its own).
    return pd.array(naive, dtype=_datetime_dtype(spec.tz), copy=False)


def python_arrays(specs: Sequence[Spec], columns: Sequence[Sequence[Any]]) -> list[Any]:
    """The pandas array of each non-empty column of ``sqlite3`` values, or ``None`` for a
    column whose values need the general road (see the module's docstring)."""
    out = [python_array(spec, values) for spec, values in zip(specs, columns, strict=True)]
    stamps = [i for i, spec in enumerate(specs) if spec.kind == "datetime"]
    if stamps:
        # One parse for all timestamp columns: its fixed cost is most of a small read's.
        parsed = _timestamps([columns[i] for i in stamps])
        for i, naive in zip(stamps, parsed or [], strict=False):
            out[i] = _datetime_array(specs[i], naive)
        if parsed is None:  # one column's form spoils the batch: each on its own
            for i in stamps:
                one = _timestamps([columns[i]])
                out[i] = None if one is None else _datetime_array(specs[i], one[0])
    return out


def python_array(spec: Spec, values: Sequence[Any]) -> Any:
    """The pandas array of a non-empty column of ``sqlite3`` values that is not a timestamp,
    or ``None`` when a value needs the general road (see the module's docstring)."""
    kind = spec.kind
    try:
        if kind == "text":
            return _STR.__from_arrow__(pa.array(values, pa.large_string()))
        if kind == "category":
            codes = np.fromiter(map(_codes(spec.categories).__getitem__, values), np.int8)
            return pd.Categorical.from_codes(
                codes, dtype=categorical_dtype(spec.categories), validate=False
            )
        if kind == "float":
            # What the general road does too: float() of each value, NULL as NaN.
            return np.array([np.nan if v is None else float(v) for v in values], np.float64)
        if kind in ("int", "bool"):
            found = _integers(values)
            if found is None:
                return None
            array, mask = found
            if not spec.nullable and kind == "int":
                return array if mask is None else None  # NULL in a NOT NULL column: refused there
            if mask is None:
                mask = np.zeros(len(array), np.bool_)
            if kind == "bool":
                return pd.arrays.BooleanArray(array != 0, mask)
            return pd.arrays.IntegerArray(array, mask)
    except (KeyError, TypeError, ValueError, OverflowError, pa.ArrowException):
        return None
    return None
