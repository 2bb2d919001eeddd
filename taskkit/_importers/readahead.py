"""Reading a CSV file ahead: Arrow parses it in a thread while the program is still starting.

``taskkit import`` spends its first seconds importing pandas, SQLAlchemy and Alembic, which
hold the GIL; Arrow's CSV reader does not. :func:`start` (called before those imports) reads
every column of the file as text in a thread; :func:`take` gives the reader that table, or
``None`` when nothing was read ahead or the read failed, and the file is then read as usual,
with the usual errors. This module imports only the standard library and pyarrow.
"""

import threading
from concurrent.futures import Future
from pathlib import Path

import pyarrow as pa

from taskkit._errors import LoadError
from taskkit._importers.csvfile import MAX_COLUMNS, arrow_csv, delimiter_of
from taskkit._importers.source import open_source

__all__ = ["start", "take"]

_AHEAD: dict[tuple[Path, str], "Future[pa.Table]"] = {}


def start(path: str | Path) -> None:
    """Start reading ``path`` in a thread if it is a regular file that looks like a CSV file;
    never raises (and never opens a FIFO or a device: see :func:`open_source`)."""
    try:
        source = open_source(Path(path).resolve())
        if source.is_json:
            return  # read as usual
        first, newline, _ = source.head.partition("\n")
        delimiter = delimiter_of(first)
        if not newline or first.count(delimiter) >= MAX_COLUMNS:
            return  # a header this long is refused by the reader, which says why
    except (LoadError, OSError, ValueError):
        return
    ahead: Future[pa.Table] = Future()

    def read() -> None:
        try:
            ahead.set_result(arrow_csv(source, delimiter, None))
        except BaseException as exc:  # handed to take(), which reads again for the message
            ahead.set_exception(exc)

    _AHEAD[(source.path, delimiter)] = ahead
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
