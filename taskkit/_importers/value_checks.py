"""Checking values by the models' rules: each distinct value once (pydantic), or in bulk
with Arrow when every value passes the plain text rules; the :class:`Checker` collects the
problems per source row (``ImportOptions`` says how values that need a decision are read)."""

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import TypeAdapter, ValidationError

from taskkit._importers.reading import blank
from taskkit._importers.summary import RowProblem
from taskkit._rules import (
    DESCRIPTION_MAX,
    KEY_MAX,
    KIND_MAX,
    LABEL_MAX,
    NAME_MAX,
    TITLE_MAX,
    Description,
    Key,
    Kind,
    LabelName,
    Name,
    Priority,
    Resolution,
    Status,
    Title,
)

__all__ = [
    "ADAPTERS",
    "TEXT_RULES",
    "Checker",
    "plain_text_ok",
    "reason_of",
    "shown",
    "text_column",
]


# The types TaskCreate's, ProjectCreate's and WorkerCreate's fields are declared with
# (taskkit._rules), without loading the models: tests/test_new_sqlite_file.py holds that each
# accepts and refuses what the model's field does.
ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "title": TypeAdapter(Title),
    "description": TypeAdapter(Description | None),
    "status": TypeAdapter(Status),
    "priority": TypeAdapter(Priority),
    "project": TypeAdapter(Name),
    "worker": TypeAdapter(Name),
    "key": TypeAdapter(Key | None),
    "resolution": TypeAdapter(Resolution | None),
    "kind": TypeAdapter(Kind | None),
    "label": TypeAdapter(LabelName),
}


def reason_of(exc: ValidationError) -> str:
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


class Checker:
    """Collects problems per row while each column is checked; rows are reported by their
    number in the source (``row_numbers``: a merged export has fewer rows than lines)."""

    def __init__(self, row_numbers: np.ndarray) -> None:
        self.n = len(row_numbers)
        self.row_numbers = row_numbers
        self.problems: list[RowProblem] = []
        self.bad = np.zeros(self.n, dtype=bool)
        self.hints: dict[str, str] = {}
        self.naive = 0  # times read in the zone of --tz

    def flag(self, rows: np.ndarray, field_name: str, reason: str, hint: str = "") -> None:
        self.bad[rows] = True
        self.problems.extend(RowProblem(int(self.row_numbers[r]), field_name, reason) for r in rows)
        if hint and len(rows):  # a hint goes with the rows it is for, not with the field
            self.hints[field_name] = hint

    def refuse(self, numbers: list[int], field_name: str, reason: str, hint: str = "") -> None:
        """Refuse source rows by their numbers (some may have been merged into others)."""
        self.bad[np.isin(self.row_numbers, numbers)] = True
        self.problems.extend(RowProblem(n, field_name, reason) for n in numbers)
        if hint:
            self.hints[field_name] = hint

    def present(
        self, column: pa.ChunkedArray, field_name: str, adapter: TypeAdapter[Any]
    ) -> pa.Array:
        """Like :meth:`by_value` for a field whose empty cells mean "none" (project, key):
        only the values given are checked, and empty cells stay null."""
        flat = column.combine_chunks()
        if flat.null_count in (0, len(flat)):
            return flat if flat.null_count else self.by_value(flat, field_name, adapter)
        given = flat.is_valid()
        rows = np.flatnonzero(given.to_numpy(zero_copy_only=False))
        checked = self.by_value(flat.filter(given), field_name, adapter, rows=rows)
        return pc.replace_with_mask(flat, given, checked)

    def by_value(
        self,
        column: pa.ChunkedArray | pa.Array,
        field_name: str,
        adapter: TypeAdapter[Any],
        rows: np.ndarray | None = None,
    ) -> pa.Array:
        """Validate each distinct value once; flag rows with a bad one; return parsed values.
        ``rows``: the row position of each value, when ``column`` holds some rows only."""
        flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        limits = TEXT_RULES.get(field_name)
        # Every value passes the field's rules checked in bulk (the same rules as the model's:
        # a test holds that), so pydantic has nothing to add. Checked on the column itself:
        # titles and descriptions are nearly all distinct, and encoding them cost more than
        # the check.
        if (
            limits is not None
            and (flat.null_count == 0 or _accepts_none(adapter))
            and pc.all(plain_text_ok(flat.drop_null(), *limits)).as_py() is not False
        ):
            return flat
        encoded = flat.dictionary_encode()
        dictionary = encoded.dictionary
        parsed: list[Any] = []
        for code, value in enumerate(dictionary.to_pylist()):
            try:
                result = adapter.validate_python(value)
                parsed.append(
                    result.value if isinstance(result, Status | Priority | Resolution) else result
                )
            except ValidationError as exc:
                parsed.append(None)
                bad = np.flatnonzero(encoded.indices.to_numpy(zero_copy_only=False) == code)
                self.flag(
                    bad if rows is None else rows[bad],
                    field_name,
                    f"{reason_of(exc)} (got {shown(value)})",
                )
        return pa.array(parsed, pa.string()).take(encoded.indices)


def _accepts_none(adapter: TypeAdapter[Any]) -> bool:
    """Whether the field is optional (an empty cell is then a valid value)."""
    try:
        adapter.validate_python(None)
    except ValidationError:
        return False
    return True


# Text fields whose rules are length, not blank and storable: (min length, max length).
TEXT_RULES = {
    "title": (1, TITLE_MAX), "description": (0, DESCRIPTION_MAX), "key": (1, KEY_MAX),
    "project": (1, NAME_MAX), "worker": (1, NAME_MAX), "kind": (1, KIND_MAX),
    "label": (1, LABEL_MAX),
}  # fmt: skip


def plain_text_ok(values: pa.Array, low: int, high: int) -> pa.Array:
    """True for each value within ``low``..``high`` code points, not blank (when ``low``),
    and without NUL (Arrow text is valid UTF-8, so no lone surrogates)."""
    length = pc.utf8_length(values)
    ok = pc.and_(pc.greater_equal(length, low), pc.less_equal(length, high))
    ok = pc.and_(ok, pc.invert(pc.match_substring(values, "\x00")))
    if low:
        ok = pc.and_(ok, pc.invert(blank(values)))
    return pc.fill_null(ok, False)


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def text_column(table: pa.Table, name: str, default: str | None = None) -> pa.ChunkedArray:
    """The column as text, empty cells as None (or ``default``); absent: all ``default``."""
    if name not in table.column_names:
        return pa.chunked_array([pa.array([default] * table.num_rows, pa.string())])
    column = table.column(name)
    filled = pc.if_else(blank(column), pa.scalar(default, pa.string()), column)
    return pc.if_else(pc.is_null(column), pa.scalar(default, pa.string()), filled)
