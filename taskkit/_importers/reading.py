"""Files (CSV or JSON) and DataFrames as tables of text columns, read the same way each time.

Every value arrives as text (or null): parsing is the job of the format and the checks after
it, so ``007`` stays ``007`` and a date keeps the form the tracker wrote.
"""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from taskkit._errors import InvalidArgumentError, LoadError
from taskkit._importers.readahead import MAX_COLUMNS, SAMPLE, arrow_csv, delimiter_of, take

__all__ = ["Raw", "read_file", "read_frame", "unique_names"]


@dataclass
class Raw:
    """What a source holds: text columns (unique names), the header as written, and for JSON
    files the parsed document (formats that read nested JSON look at it)."""

    table: pa.Table
    header: list[str]  # as written, repeated names included
    kind: str  # "csv", "json" or "frame"
    document: Any = None
    delimiter: str = ","


def unique_names(header: list[str]) -> list[str]:
    """``Labels, Labels, Labels`` -> ``Labels, Labels.1, Labels.2`` (as pandas names them)."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}.{seen[name]}"
            names.append(candidate)
        else:
            seen[name] = 0
            names.append(name)
    return names


def read_file(path: Path, select: Callable[[list[str]], set[str]] | None = None) -> Raw:
    """A CSV (any of ``,`` ``;`` or tab separated, UTF-8 with or without a BOM, quoted
    multi-line values) or a JSON file (a list of objects, or an object such as a Trello
    board). ``select(header)`` names the columns (unique names) a CSV's table needs: the
    others are only listed in ``header``, not converted (a tracker export has ~90 columns and
    an import reads about ten)."""
    if not path.is_file():
        raise InvalidArgumentError(f"file {str(path)!r} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise LoadError(f"{str(path)!r} is empty: expected a header line with at least 'title'")
    with path.open("rb") as f:
        head = f.read(SAMPLE)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"[", b"{"):
        return _read_json(path)
    return _read_csv(path, head, select)


def _not_utf8(path: Path, data: bytes | None = None) -> str:
    """Why the file is not UTF-8 (line, byte, and how to re-save it), or "" when it is."""
    data = path.read_bytes() if data is None else data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        byte = data[bad.start]
        return (
            f"it is not UTF-8 text (line {line}, byte {bad.start}: 0x{byte:02x}, which is "
            f"{bytes([byte]).decode('cp1252', errors='replace')!r} in Windows-1252/Latin-1); "
            "save it as UTF-8 (Excel: Save As > 'CSV UTF-8'; or "
            "iconv -f cp1252 -t utf-8 IN.csv > OUT.csv)"
        )
    return ""


def _read_csv(
    path: Path, head: bytes, select: Callable[[list[str]], set[str]] | None = None
) -> Raw:
    text = head.decode("utf-8", errors="ignore").removeprefix("\ufeff")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if not first_line.strip(" \t,;"):
        raise LoadError(
            f"{str(path)!r} has no header line: expected column names, at least 'title'"
        )
    delimiter = delimiter_of(first_line)
    guess = [h.strip() for h in next(csv.reader([first_line], delimiter=delimiter), [])]
    positions: list[int] | None = None
    if select is not None and guess:
        wanted = select(unique_names(guess))
        positions = [i for i, n in enumerate(unique_names(guess)) if n in wanted] or None
    table = _arrow_csv(path, delimiter, positions)
    header = [
        str(v).removeprefix("\ufeff").strip() for v in table.slice(0, 1).to_pylist()[0].values()
    ]
    if positions is not None:
        if header != [guess[i] for i in positions]:  # a header our quick read got wrong
            return _read_csv(path, head)
        table = table.slice(1).rename_columns([unique_names(guess)[i] for i in positions])
        return Raw(table=table, header=guess, kind="csv", delimiter=delimiter)
    if not any(header):
        raise LoadError(
            f"{str(path)!r} has no header line: expected column names, at least 'title'"
        )
    table = table.slice(1).rename_columns(unique_names(header))
    return Raw(table=table, header=header, kind="csv", delimiter=delimiter)


def _arrow_csv(path: Path, delimiter: str, positions: list[int] | None) -> pa.Table:
    table = take(path, delimiter, positions)  # read ahead while the command started
    if table is None:
        try:
            table = arrow_csv(path, delimiter, positions)
        except pa.ArrowInvalid as exc:
            reason = _not_utf8(path) or str(exc).strip().splitlines()[0]
            raise LoadError(f"{str(path)!r} is not a CSV file taskkit can read: {reason}") from None
    if table.num_columns > MAX_COLUMNS:
        raise LoadError(f"{str(path)!r} has more than {MAX_COLUMNS:,} columns")
    return table


def _read_json(path: Path) -> Raw:
    data = path.read_bytes()
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise LoadError(
            f"{str(path)!r} is not a JSON file taskkit can read: {_not_utf8(path, data)}"
        ) from None
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"{str(path)!r} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    records = document if isinstance(document, list) else []
    if not all(isinstance(r, dict) for r in records):
        raise LoadError(f"{str(path)!r}: expected a JSON list of objects (one per task)")
    table = records_table(records)
    return Raw(table=table, header=list(table.column_names), kind="json", document=document)


def records_table(records: list[dict[str, Any]]) -> pa.Table:
    """Objects as text columns: nested values (lists, objects) as their JSON text."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return pa.table(
        {name: pa.array([_text(r.get(name)) for r in records], pa.string()) for name in names}
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_frame(frame: pd.DataFrame) -> Raw:
    """A DataFrame's columns as text; datetime columns as ISO 8601 UTC."""
    columns: dict[str, pa.Array] = {}
    for name in frame.columns:
        if not isinstance(name, str):
            raise LoadError(f"column names must be text, got {name!r}")
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series):
            stamps = pd.to_datetime(series, utc=True)
            columns[name] = pa.array(stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), pa.string())
        else:
            values = [None if _missing(v) else _text(v) for v in series.tolist()]
            columns[name] = pa.array(values, pa.string())
    if len(set(columns)) != len(frame.columns):
        raise LoadError(f"duplicate column names: {list(frame.columns)}")
    table = pa.table(columns) if columns else pa.table({})
    return Raw(table=table, header=list(table.column_names), kind="frame")


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
