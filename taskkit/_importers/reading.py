"""Files (CSV or JSON) and DataFrames as tables of text columns, read the same way each time.

Every value arrives as text (or null): parsing is the job of the format and the checks after
it, so ``007`` stays ``007`` and a date keeps the form the tracker wrote.
"""

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taskkit._errors import LoadError
from taskkit._importers import readahead
from taskkit._importers.csvfile import read_header, table_of, unique_names
from taskkit._importers.jsonfile import NESTED, read_json
from taskkit._importers.source import open_source

__all__ = [
    "Raw", "blank", "read_file", "read_frame", "records_table", "text_array", "unique_names",
]  # fmt: skip


class Raw:
    """What a source holds: text columns (unique names), the header as written, and for JSON
    files the parsed document (formats that read nested JSON look at it).

    ``table`` may be given as a function that makes it: a JSON document's own table is made
    only if a format reads it (GitHub's and Trello's build theirs from the document).
    """

    def __init__(
        self,
        table: pa.Table | Callable[[], pa.Table],
        header: list[str],
        kind: str,  # "csv", "json", "frame" or "rows"
        document: Any = None,
        delimiter: str = ",",
    ) -> None:
        self._table = table
        self.header = header
        self.kind = kind
        self.document = document
        self.delimiter = delimiter

    @property
    def table(self) -> pa.Table:
        if not isinstance(self._table, pa.Table):
            self._table = self._table()
        return self._table


def read_file(path: Path, select: Callable[[list[str]], set[str]] | None = None) -> Raw:
    """A CSV (``,`` ``;`` or tab separated, quoted multi-line values of any length) or a JSON
    file (a list of objects, or an object such as a Trello board), in UTF-8, UTF-16 or UTF-32
    with or without a BOM. ``select(header)`` names the columns (unique names) a CSV's table
    needs: the others are only listed in ``header``, not converted (a tracker export has ~90
    columns and an import reads about ten).

    Nothing but a regular file is opened: a directory, a FIFO or a device is refused first.
    """
    source = open_source(path)
    if source.is_json:
        return _read_json(path, read_json(source))
    found = read_header(source)
    table, header = table_of(
        found, select, lambda positions: readahead.take(path, found.delimiter, positions)
    )
    if not any(header):
        raise LoadError(
            f"{str(path)!r} has no header line: expected column names, at least 'title'"
        )
    return Raw(table=table, header=header, kind="csv", delimiter=found.delimiter)


def _read_json(path: Path, document: Any) -> Raw:
    if not isinstance(document, list | dict):
        raise LoadError(
            f"{str(path)!r}: expected a JSON list of objects (one per task) or an export's "
            f"object (a Trello board); it holds a JSON {_json_type(document)}"
        )
    records = document if isinstance(document, list) else []
    if isinstance(document, list) and not document:
        raise LoadError(f"no rows to load: {str(path)!r} holds an empty JSON list")
    if not all(isinstance(r, dict) for r in records):
        raise LoadError(f"{str(path)!r}: expected a JSON list of objects (one per task)")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return Raw(
        table=lambda: records_table(records, list(names)),
        header=list(names),
        kind="json",
        document=document,
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {str: "string", int: "number", float: "number"}.get(type(value), type(value).__name__)


def records_table(records: Sequence[dict[str, Any]], names: list[str] | None = None) -> pa.Table:
    """Objects as text columns: nested values (lists, objects) as their JSON text.

    Raises:
        LoadError: a text that is not Unicode (a lone surrogate such as JSON's ``"\\ud800"``),
            naming the row and the field; values nested too deeply to write as JSON text.
    """
    if names is None:
        seen: dict[str, None] = {}
        for record in records:
            seen.update(dict.fromkeys(record))
        names = list(seen)
    try:
        return pa.table(
            {name: text_array([_text(r.get(name)) for r in records], name) for name in names}
        )
    except RecursionError:
        raise LoadError(f"a value is {NESTED}") from None


def text_array(values: Sequence[str | None], name: str) -> pa.Array:
    """``values`` as an Arrow string array.

    Raises:
        LoadError: a value holds a lone surrogate (``"\\ud800"`` in JSON, or a Python string
            made from one): not Unicode text, which no database stores; names the first row
            (1-based) and ``name``.
    """
    try:
        return pa.array(values, pa.string())
    except UnicodeEncodeError:
        pass
    for row, value in enumerate(values, start=1):
        if value is not None:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as bad:
                char = value[bad.start]
                raise LoadError(
                    f"row {row:,}: {name}: {char!r} is half of a UTF-16 surrogate pair, not "
                    f"text (a JSON escape such as '\\u{ord(char):04x}' without its other "
                    "half); fix the value in the file"
                ) from None
    raise AssertionError("unreachable: a value that pyarrow refused encodes as UTF-8")


def blank(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """True where a text value is empty or only whitespace (null where it is null): what
    ``utf8_trim_whitespace(values) == ""`` says, without copying every value to trim it."""
    return pc.or_(pc.equal(pc.binary_length(values), 0), pc.utf8_is_space(values))


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
            columns[name] = text_array(values, name)
    if len(set(columns)) != len(frame.columns):
        raise LoadError(f"duplicate column names: {list(frame.columns)}")
    table = pa.table(columns) if columns else pa.table({})
    return Raw(table=table, header=list(table.column_names), kind="frame")


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
