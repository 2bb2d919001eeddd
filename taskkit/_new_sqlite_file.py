"""A bulk write that creates its SQLite file (the file, the head schema and the rows) without
SQLAlchemy.

``taskkit import`` into a new file is the first thing a newcomer runs, and start-up is most of
a small import: SQLAlchemy, SQLModel and the models are about two fifths of a second of it,
as much as pandas. Into a file that does not exist there is nothing to read first (no tasks,
no keys, no revision), so this writer needs none of them:

* the schema is :mod:`taskkit._database.sqlite_head`, the statements ``ensure_schema`` runs in
  an empty SQLite file (held equal to the migrations by a test);
* the connection is opened and set up as every SQLite connection taskkit opens
  (:mod:`taskkit._database.sqlite_file`: busy timeout, foreign keys, 16 KiB pages, then WAL);
* the rows are the batches :func:`taskkit._bulk.write_batches` would write, the way it writes
  them: ``executemany`` in one transaction with the schema for a small write, the SQLite
  helper process (:mod:`taskkit._sqlite_child.bulk_write`) from 100,000 tasks on.

A write that fails stores none of its rows; the file stays (empty, or with the schema alone),
as the engine's path leaves a database it created. A file that came into being meanwhile is
not touched: :func:`write_new_file` says so, and the caller writes through the engine.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from taskkit._bulk_parts import (
    SQLITE_CHILD_MIN_ROWS,
    BatchFactory,
    Existing,
    count_written,
    insert_sql,
    records,
    sqlite_ready,
)
from taskkit._database.sqlite_file import (
    SQLITE_PAGE_SIZE,
    create_head_schema,
    open_sqlite,
    set_up_new_file,
)
from taskkit._errors import BulkWriteError
from taskkit._progress import progress_bar
from taskkit._run_sync import run_sync
from taskkit._sqlite_child import bulk_write

__all__ = ["write_new_file"]


def write_new_file(
    path: Path,
    make_batches: BatchFactory,
    *,
    total_rows: int = 0,
    progress: bool | None = None,
    desc: str = "writing",
) -> dict[str, int] | None:
    """Create the SQLite file ``path`` holding taskkit's tables at head and the batches that
    ``make_batches(Existing())`` yields. For code without a running event loop (the CLI).

    Below ``SQLITE_CHILD_MIN_ROWS`` task rows (``total_rows``), the schema and the rows are one
    transaction, written here and not in an event loop: asyncio would hold Ctrl-C back until
    the COMMIT, and the rows would be stored under "Aborted!". From there on the rows go
    through the SQLite helper process, as :func:`taskkit._bulk.write_batches` sends them
    (ADBC's bulk ingest, indexes built at the end, a rollback journal), after the schema.

    A write that fails leaves the file with none of its rows: empty, or holding the schema
    alone, as the engine's path leaves a database it created. It is not removed: another
    process may have opened it meanwhile (an import waiting for the lock), and its rows would
    go into a file that no longer has a name.

    Returns:
        Rows written per table; ``None`` when ``path`` cannot be created here: it exists (it
        appeared after the caller looked) or its directory refuses it. Nothing was written,
        and the write is the engine's to make (or to refuse, with its own message).

    Raises:
        BulkWriteError: SQLite refused the write (a constraint, a full disk): nothing was
            stored.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError:
        return None  # it exists, or its directory refuses: the engine's path says which
    bar = progress_bar(progress, total=total_rows, desc=desc)
    try:
        if total_rows < SQLITE_CHILD_MIN_ROWS:
            return _in_one_transaction(path, make_batches, bar)
        _in_one_transaction(path, lambda existing: iter(()), bar)  # the schema alone
        return run_sync(
            bulk_write.write_file(
                str(path), make_batches, replace=False, bar=bar, check_foreign_keys=True
            )
        )
    finally:
        bar.close()


def _in_one_transaction(path: Path, make_batches: BatchFactory, bar: Any) -> dict[str, int]:
    """The schema and the rows, in one transaction through the rollback journal (pages the
    file did not have need no journal); then WAL, as every file taskkit writes is in."""
    conn = open_sqlite(str(path), read_only=False)
    try:
        conn.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before the first page
        written = _write(conn, make_batches, bar)
        set_up_new_file(conn.cursor())  # committed: WAL from now on
        return written
    except sqlite3.Error as exc:
        raise BulkWriteError(f"the database refused the write, nothing was stored: {exc}") from exc
    finally:
        conn.close()  # rolls back whatever was not committed


def _write(conn: sqlite3.Connection, make_batches: BatchFactory, bar: Any) -> dict[str, int]:
    written: dict[str, int] = {}
    conn.execute("BEGIN IMMEDIATE")
    create_head_schema(conn.execute)
    for name, table in make_batches(Existing()):
        ready = sqlite_ready(table)
        if ready.num_rows:
            conn.executemany(insert_sql(name, ready), records(ready))
        count_written(written, name, table.num_rows, bar)
    conn.execute("COMMIT")
    return written
