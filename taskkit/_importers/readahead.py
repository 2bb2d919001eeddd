"""Reading a CSV file ahead: Arrow parses it in a thread while the program is still starting.

``taskkit import`` spends its first seconds importing pandas, SQLAlchemy and Alembic, which
hold the GIL; Arrow's CSV reader does not. :func:`start` (called before those imports) reads
every column of the file as text in a thread; :func:`take` gives the reader that table, or
``None`` when nothing was read ahead or the read failed, and the file is then read as usual,
with the usual errors. This module imports only the standard library and pyarrow.
"""

import csv
import threading
from concurrent.futures import Future
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["DELIMITERS", "MAX_COLUMNS", "SAMPLE", "arrow_csv", "delimiter_of", "start", "take"]

DELIMITERS = (",", ";", "\t")
SAMPLE = 1 << 16
MAX_COLUMNS = 4096
_AHEAD: dict[tuple[Path, str], "Future[pa.Table]"] = {}


def delimiter_of(first_line: str) -> str:
    """The separator of the header line: the one of ``, ; tab`` that splits it most."""
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the first, a comma
    return best if counts[best] > 1 else ","


def arrow_csv(path: Path, delimiter: str, positions: list[int] | None) -> pa.Table:
    """The file as text columns named ``f0, f1, ...`` by position, the header as the first
    row (so repeated names, or a BOM before the first, change nothing); ``positions``: only
    those columns. Raises ``pa.ArrowInvalid`` for what Arrow cannot read."""
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(autogenerate_column_names=True),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys((f"f{i}" for i in range(MAX_COLUMNS)), pa.string()),
            strings_can_be_null=False,  # an empty cell is "", turned into None per column
            include_columns=None if positions is None else [f"f{i}" for i in positions],
        ),
    )


def start(path: str | Path) -> None:
    """Start reading ``path`` in a thread if it looks like a CSV file; never raises."""
    try:
        path = Path(path).resolve()
        with path.open("rb") as f:
            head = f.read(SAMPLE)
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{", b""):
            return  # JSON or empty: read as usual
        lines = head.decode("utf-8", errors="ignore").removeprefix("\ufeff").splitlines()
        delimiter = delimiter_of(lines[0] if lines else "")
    except (OSError, ValueError):
        return
    ahead: Future[pa.Table] = Future()

    def read() -> None:
        try:
            ahead.set_result(arrow_csv(path, delimiter, None))
        except BaseException as exc:  # handed to take(), which reads again for the message
            ahead.set_exception(exc)

    _AHEAD[(path, delimiter)] = ahead
    threading.Thread(target=read, daemon=True, name="taskkit-readahead").start()


def take(path: Path, delimiter: str, positions: list[int] | None) -> pa.Table | None:
    """The table read ahead for ``path`` (only ``positions``), once; ``None`` if there is
    none or its read failed."""
    ahead = _AHEAD.pop((path.resolve(), delimiter), None)
    if ahead is None or ahead.exception() is not None:
        return None
    table = ahead.result()
    if positions is None:
        return table
    if positions and max(positions) >= table.num_columns:
        return None
    return table.select([f"f{i}" for i in positions])
