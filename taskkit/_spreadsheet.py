"""Frames for spreadsheets: text that a spreadsheet would run as a formula, made to read as text.

Excel, LibreOffice and Google Sheets run a cell that begins with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula (CSV injection, OWASP), whatever file it came from: a
task titled ``=HYPERLINK("http://evil", "Click")`` becomes a live link, and worse. OWASP's
guidance is a single quote before such a cell, which spreadsheets read as "this is text" and
do not show. :func:`spreadsheet_safe` does that to every text cell of a frame.

The quote is undone on the way back: ``taskkit import`` (its own format, and Linear's, whose
exports carry the same guard) removes one leading quote from a cell that begins with quotes
and then one of those characters. So that a cell that really begins with a quote survives the
trip, such a cell gets one more quote on the way out (``'=x`` becomes ``''=x``): the round trip
export, import gives back every value exactly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from taskkit._errors import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GUARDED_CELL", "spreadsheet_safe"]

#: A cell that a spreadsheet would run: it begins with one of OWASP's characters (after any
#: quotes, which the guard itself adds, so that the guard can be undone exactly).
_NEEDS_GUARD = re.compile(r"'*[=+\-@\t\r]")
#: A cell that carries the guard, for the importer to undo (``\1`` is the cell without it).
GUARDED_CELL = r"^'('*[=+\-@\t\r])"


def _guarded(value: Any) -> Any:
    if isinstance(value, list):  # a related=["workers"] cell: what to_csv writes is its str()
        text = str(value)
        return "'" + text if _NEEDS_GUARD.match(text) else value
    if isinstance(value, str) and _NEEDS_GUARD.match(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cannot run as a formula when a spreadsheet opens it.

    Every text cell (``str`` and ``object`` columns, Categorical categories, the lists of a
    ``worker_ids`` column as ``to_csv`` writes them) that begins with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return gets a single quote in front (OWASP's guidance for CSV
    injection); so does one that begins with quotes followed by one of those, which keeps the
    guard reversible. Numbers, timestamps and every other value are left as they are, and so
    are the dtypes. ``taskkit import`` removes the quote again, so
    ``spreadsheet_safe(frame).to_csv(path, index=False)`` imports back to the same values.

    Raises:
        InvalidArgumentError: ``frame`` is not a DataFrame.
    """
    import pandas as pd  # loaded already: the frame is one (the importer needs only the rule)

    if not isinstance(frame, pd.DataFrame):
        raise InvalidArgumentError(
            f"spreadsheet_safe takes a pandas DataFrame (to_dataframe's result); "
            f"got {type(frame).__name__}"
        )
    safe = frame.copy()
    for name in safe.columns:
        column = safe[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = column.cat.categories
            if categories.dtype.kind in "OUT" or pd.api.types.is_string_dtype(categories):
                safe[name] = column.cat.rename_categories([_guarded(c) for c in categories])
        elif pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
            safe[name] = column.map(_guarded, na_action="ignore").astype(column.dtype)
    return safe
