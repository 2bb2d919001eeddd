"""to_dataframe's arguments: their defaults and limits, the names they accept, the sizes that
pick a reader, and the checks."""

from __future__ import annotations

import difflib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.selectable import SelectBase

from taskkit._checks import positive_int
from taskkit._errors import InvalidArgumentError

# ---------------------------------------------------------------------------------------------
# Defaults and limits.

DEFAULT_CHUNKSIZE = 2_048
# What `related=` accepts, and the column each name adds.
RELATED = {"project": "project_name", "workers": "worker_ids", "labels": "labels"}
READERS = ("auto", "adbc", "sqlalchemy")
# Below this many rows an automatic progress bar would only flicker (and would make notebook
# outputs differ from run to run).
PROGRESS_MIN_ROWS = 50_000
# Related rows are looked up by an IN list up to this many ids, else the whole table is read:
# the ids come from the frame itself, so the lookup cannot disagree with it.
IN_LIST_MAX = 1_000
# SQLite files: results up to SMALL_ROWS rows are read in this process through sqlite3
# (microseconds to start, about 2 us a row) rather than by the ADBC helper process (about
# 3 ms to start, then about 1 us a row): statements whose LIMIT says so at once; others are
# fetched for PROBE_ROWS rows and, if they have more, counted by SQLite up to SMALL_ROWS + 1.
# benchmarks/frames.py --sizes measures both sides of the crossing.
SMALL_ROWS = 3_000
PROBE_ROWS = 1_000
# The helper process reads in batches of DEFAULT_CHUNKSIZE rows (small batches keep both
# processes busy), except a result known (by its LIMIT, or counted by SQLite up to this many
# rows) to fit in one batch of at most ONE_BATCH_ROWS: ADBC types the columns of a later batch
# from the first one, and a first batch that cannot be typed means running the statement again
# (see sqlite_adbc_reader); a single batch never needs that.
ONE_BATCH_ROWS = 16_384
# A single-statement read of a SQLite file starts on the event loop's thread (a trip to a
# worker thread costs more than a small read), fetching INLINE_BATCH rows at a time: after
# INLINE_SECONDS of its CPU time, or INLINE_ROWS rows, the rest of the read goes on in a
# worker thread; a statement that takes longer than INLINE_SECONDS to give its next rows is
# stopped by SQLite (checked every INLINE_STEPS steps of its virtual machine) and run again
# there (see sqlite_inline_reader).
INLINE_ROWS = 1_000
INLINE_BATCH = 256
INLINE_SECONDS = 0.002
INLINE_STEPS = 10_000
# A statement SQLite sorts before its first row, probed in a worker thread: a sort that needs
# more CPU time than this for its first row is a large result, left to the ADBC reader (see
# sqlite_inline_reader's _probe). About 50,000 rows' worth of sorting.
SORT_PROBE_SECONDS = 0.05

# ---------------------------------------------------------------------------------------------
# Argument checks.


def check_stmt(stmt: Any) -> SelectBase:
    if isinstance(stmt, SelectBase):
        return stmt
    if isinstance(stmt, str):
        got = f"a string ({stmt[:40]!r}); wrap SQL as text(sql).columns(Task.id, ...)"
    elif isinstance(stmt, sa.TextClause):
        # Without .columns() the frame could not be typed from the models.
        got = (
            "text() without its columns; name them so each column gets its type: "
            "text(sql).columns(Task.id, Task.title) or text(sql).columns(id=Integer)"
        )
    elif isinstance(stmt, sa.sql.ClauseElement):
        got = f"{type(stmt).__name__} ({str(stmt).split(None, 1)[0]} statement)"
    else:
        got = type(stmt).__name__
    raise InvalidArgumentError(f"stmt must be a select() (or union of selects), got {got}")


def check_chunksize(chunksize: Any) -> int:
    if chunksize is None:
        return DEFAULT_CHUNKSIZE
    return positive_int("chunksize", chunksize, note=f"(or None for {DEFAULT_CHUNKSIZE:,})")


def check_related(related: Any) -> tuple[str, ...]:
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
            near = difflib.get_close_matches(name, RELATED, n=1) if isinstance(name, str) else []
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InvalidArgumentError(
                f"related has unknown name {name!r}; {hint}choose from {', '.join(RELATED)}"
            )
    return names
