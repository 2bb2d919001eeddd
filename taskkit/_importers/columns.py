"""The columns with rules of their own: tracker keys (unique in the file), worker lists
(split, trimmed, each name checked once), task ids, and timestamps (Arrow's ISO 8601 parser
when it can, else the export date forms of :mod:`taskkit._importers.dates`)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from taskkit._importers.convert import WORKER_SEPARATOR
from taskkit._importers.dates import parse_dates
from taskkit._importers.options import DEFAULT_OPTIONS, ImportOptions
from taskkit._importers.value_checks import ADAPTERS, Checker, reason_of, shown, text_column

__all__ = [
    "EARLIEST",
    "LATEST",
    "Links",
    "check_ids",
    "check_keys",
    "check_labels",
    "check_timestamps",
    "check_workers",
    "iso_timestamps",
]


# Times taskkit stores: Python's datetime holds years 1 to 9999 and both databases more, but
# the report's charts pad their axes and bin by week, and matplotlib's dates end at years 1 and
# 9999: with a task in year 1 or 9999 the report failed. Between these, every chart was drawn.
EARLIEST = pd.Timestamp("1000-01-01T00:00:00Z")
LATEST = pd.Timestamp("9000-01-01T00:00:00Z")  # exclusive


def check_timestamps(
    table: pa.Table, name: str, check: Checker, options: ImportOptions = DEFAULT_OPTIONS
) -> pd.Series:
    """The column as aware UTC timestamps; values taskkit cannot read, or outside the years
    1000 to 8999 once in UTC, are flagged naming the row."""
    column = text_column(table, name)
    values = _timestamps(column, name, check, options)
    outside = (values < EARLIEST) | (values >= LATEST)
    if outside.any():
        text = column.to_pandas()
        for row in np.flatnonzero(outside.to_numpy()):
            check.flag(
                np.array([row]), name,
                f"{shown(text.iloc[row])} is outside the years 1000 to 8999 in UTC, which "
                "the databases, Python and the report's charts all hold",
            )  # fmt: skip
        values = values.where(~outside)
    return values


def _timestamps(
    column: pa.ChunkedArray, name: str, check: Checker, options: ImportOptions
) -> pd.Series:
    fast = iso_timestamps(column) if options.tz == "UTC" else None
    if fast is not None:
        return fast.to_pandas().astype("datetime64[us, UTC]")
    parsed = parse_dates(column.to_pandas(), order=options.date_order, tz=options.tz)
    for value, rows in parsed.bad.items():
        check.flag(
            rows, name, f"{shown(value)} is not a date and time taskkit reads",
            "e.g. 2025-03-01T09:30:00Z, 17/Feb/22 11:02 AM, 06-09-2024 13:55",
        )  # fmt: skip
    for value, rows in parsed.ambiguous.items():
        check.flag(
            rows, name, f"{shown(value)} could be day-month or month-day",
            "pass --dayfirst or --monthfirst (date_order='dayfirst' or 'monthfirst')",
        )  # fmt: skip
    check.naive += parsed.naive
    return parsed.values


def iso_timestamps(text: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Arrow's ISO 8601 parser (several times faster than pandas') when every value is plain
    ISO 8601 at microsecond precision, all without an offset (taken as UTC) or all with one;
    ``None`` otherwise, and pandas parses the column and names each bad value."""
    for target in (pa.timestamp("us"), pa.timestamp("us", "UTC")):
        try:
            parsed = pc.cast(text, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return parsed if target.tz else pc.assume_timezone(parsed, "UTC")
    return None


def check_keys(table: pa.Table, check: Checker) -> pa.Array:
    """Each row's tracker key (checked like TaskCreate.key); a key twice in the file is
    refused: it cannot say which row is the task."""
    keys = check.present(text_column(table, "key"), "key", ADAPTERS["key"])
    given = keys.drop_null()
    if len(pc.unique(given)) == len(given):  # no key twice: nothing to look for
        return keys
    series = pd.Series(keys.to_pylist(), dtype=object)
    repeated = series.notna() & series.duplicated(keep=False)
    for value, rows in series[repeated].groupby(series[repeated], sort=False).groups.items():
        check.flag(
            np.asarray(rows), "key", f"{shown(value)} names several rows",
            "each key names one task: remove the repeated rows",
        )  # fmt: skip
    return keys


@dataclass
class Links:
    """Each row's worker names, flattened: ``names[i]`` is named by row ``rows[i]``; rows in
    order, a name at most once per row."""

    rows: np.ndarray  # int64 row positions, ascending
    names: pa.Array  # strings


def check_workers(table: pa.Table, check: Checker) -> Links:
    """Split the ``workers`` cells (names joined by the format's separator, each trimmed) and
    check each distinct name."""
    return _names(table, "workers", "worker", check)


def check_labels(table: pa.Table, check: Checker) -> Links:
    """Split the ``labels`` cells like the workers' and check each distinct label name."""
    return _names(table, "labels", "label", check)


def _names(table: pa.Table, column: str, adapter: str, check: Checker) -> Links:
    if column not in table.column_names:
        return Links(np.zeros(0, np.int64), pa.array([], pa.string()))
    lists = pc.split_pattern(text_column(table, column).combine_chunks(), WORKER_SEPARATOR)
    names = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    rows = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    # A name once per row, where it first appears ("a; ;a" names one worker), and never "":
    # a (row, name) pair as one integer, rather than pandas hashing the pairs' text.
    codes = names.dictionary_encode()
    pair = rows * len(codes.dictionary) + codes.indices.to_numpy(zero_copy_only=False)
    first = np.zeros(len(pair), bool)
    first[np.unique(pair, return_index=True)[1]] = True
    keep = first & pc.not_equal(names, "").to_numpy(zero_copy_only=False)
    links = Links(rows[keep], names.filter(pa.array(keep)))
    encoded = links.names.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    for code, name in enumerate(encoded.dictionary.to_pylist()):
        try:
            ADAPTERS[adapter].validate_python(name)
        except ValidationError as exc:
            check.flag(
                np.unique(links.rows[codes == code]),
                column,
                f"{reason_of(exc)} (got {shown(name)})",
            )
    return links


def check_ids(table: pa.Table, check: Checker) -> pd.Series:
    if "id" not in table.column_names:
        n = table.num_rows  # all missing
        return pd.Series(pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool)))
    text = text_column(table, "id").to_pandas()
    numbers = pd.to_numeric(text, errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers)) & (numbers >= 1) & (numbers < 2**63)
    for row in np.flatnonzero((text.notna() & ~whole).to_numpy()):
        check.flag(
            np.array([row]), "id", f"must be a positive integer (got {shown(text.iloc[row])})"
        )
    ids = numbers.where(whole).astype("Int64")
    repeated = ids.notna() & ids.duplicated(keep=False)
    for value, rows in ids[repeated].groupby(ids[repeated], sort=False).groups.items():
        check.flag(np.asarray(rows), "id", f"{value} names several rows")
    return ids
