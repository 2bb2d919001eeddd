"""A child process that bulk-writes Arrow batches into a SQLite file with ADBC.

Why a child process: ADBC's SQLite driver carries its own copy of the SQLite library. Two
copies of SQLite in one process break SQLite's POSIX locks (closing a file in one copy drops
the locks the other copy holds), which the SQLite documentation lists as a way to corrupt a
database; we reproduced it here ("disk I/O error" on the next connection). In its own process
the fast driver is safe, and a killed child simply leaves an uncommitted transaction that
SQLite rolls back.

Protocol (parent ``taskkit.bulk`` <-> this file, run as a script: ``python sqlite_writer.py``):

1. argv: the database path, ``keep`` or ``replace``, and ``check`` or ``trust`` (whether to
   run ``PRAGMA foreign_key_check`` before committing; ``trust`` only for rows whose keys are
   right by construction, such as the seed's).
2. The child takes the write lock (``BEGIN IMMEDIATE``), empties the tables for ``replace``,
   and prints one JSON line describing what the database holds.
3. The parent sends frames on stdin: ``<u32 name length><name><u64 size><Arrow IPC stream>``;
   the child ingests each and prints ``{"table": name, "rows": n}``. A frame named ``!commit``
   commits; ``!abort`` or the end of input without it (the parent died) rolls back.
4. Last line: ``{"done": {...rows per table...}, "seconds": {...per phase...}}`` or
   ``{"error": "..."}`` (exit status 1).
"""

import json
import queue
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import pyarrow as pa

__all__ = [
    "ABORT",
    "COMMIT",
    "GO",
    "PROJECTS_SQL",
    "SUMMARY_SQL",
    "TABLES",
    "WORKERS_SQL",
    "read_frame",
    "write_frame",
]

ABORT = "!abort"
COMMIT = "!commit"
GO = "!go"  # to a writer started with "wait": open the database now
TABLES = ("project", "worker", "task", "taskworkerlink")  # foreign-key order
BUSY_TIMEOUT_MS = 30_000
# What the database holds, read inside the write transaction (shared with taskkit.bulk).
SUMMARY_SQL = "SELECT " + ", ".join(
    [f"(SELECT count(*) FROM {name})" for name in TABLES]
    + ["(SELECT coalesce(max(id), 0) FROM task)", "(SELECT coalesce(max(id), 0) FROM project)"]
)
PROJECTS_SQL = "SELECT id, name FROM project"
WORKERS_SQL = "SELECT id, name FROM worker"


def write_frame(out: BinaryIO, name: str, table: pa.Table) -> None:
    """Send one batch: its table name and the rows as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    payload = sink.getvalue()
    encoded = name.encode()
    out.write(struct.pack("<I", len(encoded)) + encoded + struct.pack("<Q", payload.size))
    out.write(memoryview(payload))


def read_frame(source: BinaryIO) -> tuple[str, pa.Table] | None:
    """The next batch, or ``None`` at the end of input."""
    head = source.read(4)
    if not head:
        return None
    (length,) = struct.unpack("<I", head)
    name = source.read(length).decode()
    (size,) = struct.unpack("<Q", source.read(8))
    payload = source.read(size) if size else b""
    table = pa.ipc.open_stream(payload).read_all() if size else pa.table({})
    return name, table


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class _Connection:
    """ADBC's low-level API: the DB-API module would import pandas (a second of startup)."""

    def __init__(self, path: str) -> None:
        import adbc_driver_manager as adbc
        import adbc_driver_sqlite

        self._adbc = adbc
        self._database = adbc_driver_sqlite.connect(path)
        # Autocommit: the driver issues no BEGIN of its own; we take the write lock ourselves.
        self._connection = adbc.AdbcConnection(self._database)

    def execute(self, sql: str) -> None:
        statement = self._adbc.AdbcStatement(self._connection)
        try:
            statement.set_sql_query(sql)
            statement.execute_update()
        finally:
            statement.close()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        statement = self._adbc.AdbcStatement(self._connection)
        try:
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()
            table = pa.RecordBatchReader.from_stream(stream).read_all()
        finally:
            statement.close()
        return list(zip(*(column.to_pylist() for column in table.columns), strict=True))

    def ingest(self, name: str, table: pa.Table) -> None:
        adbc = self._adbc
        statement = adbc.AdbcStatement(self._connection)
        try:
            statement.set_options(
                **{
                    adbc.INGEST_OPTION_TARGET_TABLE: name,
                    adbc.INGEST_OPTION_MODE: adbc.INGEST_OPTION_MODE_APPEND,
                }
            )
            statement.bind_stream(table)
            statement.execute_update()
        finally:
            statement.close()

    def close(self) -> None:
        self._connection.close()
        self._database.close()


def _run(path: str, on_existing: str, check_keys: bool, phases: dict[str, float]) -> dict[str, int]:
    written: dict[str, int] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - mark
        mark = now

    db = _Connection(path)
    try:
        # Foreign keys are checked once, in bulk, before COMMIT (PRAGMA foreign_key_check):
        # cheaper than a lookup per inserted row, and just as strict. Skipped with "trust".
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # CREATE INDEX sorts within cache_size. A small budget makes the sorter cut the rows
        # into runs that helper threads sort in parallel (threads=2) and then merge: measured
        # on 1M tasks, the index builds took 1.25 s with 8 MiB and 1.9 s with 128 MiB.
        db.execute("PRAGMA cache_size=-8192")
        db.execute("PRAGMA threads=2")
        # As taskkit's engine does: in WAL mode, sync at checkpoints rather than every commit
        # (a killed process loses nothing; only a power cut can undo the last commit).
        db.execute("PRAGMA synchronous=NORMAL")
        # The write lock up front, so the look at existing rows and the writes are one snapshot.
        db.execute("BEGIN IMMEDIATE")
        try:
            _write(db, on_existing, check_keys, written, lap)
        except BaseException as failure:
            _roll_back(db, failure)
            raise
    finally:
        db.close()
    lap("close")
    return written


def _roll_back(db: _Connection, failure: BaseException) -> None:
    """Roll back after ``failure``, which stays the error to report.

    SQLite rolls a transaction back by itself after some errors (a full disk: "database or
    disk is full"); our ROLLBACK then fails with "cannot rollback - no transaction is active",
    which must not replace the real cause.
    """
    try:
        db.execute("ROLLBACK")
    except Exception as exc:
        if "no transaction is active" not in str(exc):
            failure.add_note(f"and the rollback failed too: {exc}")


def _write(
    db: _Connection,
    on_existing: str,
    check_keys: bool,
    written: dict[str, int],
    lap: Callable[[str], None],
) -> None:
    if on_existing == "replace":
        for name in reversed(TABLES):
            db.execute(f"DELETE FROM {name}")
    summary = db.rows(SUMMARY_SQL)[0]
    _say(
        {
            "summary": list(summary),
            "projects": db.rows(PROJECTS_SQL),
            "workers": db.rows(WORKERS_SQL),
        }
    )
    # Into an empty database, building indexes once at the end (a sort) is much faster than
    # updating them row by row. Same transaction: readers never see them missing.
    listed = ", ".join(f"'{name}'" for name in TABLES)
    indexes = db.rows(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({listed}) ORDER BY name"
    )
    if summary[2] != 0:  # tasks already there: keep their indexes
        indexes = []
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    lap("open")
    frames = _read_ahead(sys.stdin.buffer)
    while True:
        frame = next(frames)
        lap("wait for rows")
        if frame is None:
            raise _Aborted("input ended without a commit: the parent went away")
        name, table = frame
        if name == COMMIT:
            break
        if name == ABORT:
            raise _Aborted
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}")
        if table.num_rows:
            db.ingest(name, table)
        written[name] = written.get(name, 0) + table.num_rows
        _say({"table": name, "rows": table.num_rows})
        lap(f"insert {name}")
    for index_name, sql in indexes:
        db.execute(sql)
        lap(f"index {index_name}")
    broken = db.rows("PRAGMA foreign_key_check") if check_keys else []
    lap("foreign key check")
    if broken:
        table_name, rowid, parent, _ = broken[0]
        row = "" if rowid is None else f" row {rowid}"  # WITHOUT ROWID tables have none
        raise ValueError(
            f"FOREIGN KEY constraint failed: {len(broken):,} reference(s) to missing rows, "
            f"e.g. {table_name}{row} -> {parent}"
        )
    db.execute("COMMIT")
    lap("commit")


def _read_ahead(source: BinaryIO) -> Iterator[tuple[str, pa.Table] | None]:
    """The frames of ``source``, the next one read by a thread while this one is written."""
    ready: queue.Queue[tuple[str, pa.Table] | BaseException | None] = queue.Queue(maxsize=1)

    def read() -> None:
        try:
            while (frame := read_frame(source)) is not None:
                ready.put(frame)
                if frame[0] in (COMMIT, ABORT):
                    return
            ready.put(None)
        except BaseException as exc:
            ready.put(exc)

    threading.Thread(target=read, daemon=True).start()
    while True:
        item = ready.get()
        if isinstance(item, BaseException):
            raise item
        yield item


class _Aborted(Exception):
    pass


def main() -> int:
    path, on_existing, keys = sys.argv[1], sys.argv[2], sys.argv[3]
    if sys.argv[4:] == ["wait"]:
        # Started ahead (its imports done while the parent still reads its input): nothing
        # is opened before GO; the end of input or anything else means no write.
        signal = read_frame(sys.stdin.buffer)
        if signal is None or signal[0] != GO:
            _say({"aborted": True})
            return 0
    phases: dict[str, float] = {}
    try:
        written = _run(path, on_existing, keys == "check", phases)
    except _Aborted:
        _say({"aborted": True})
        return 0
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _say({"error": first})
        return 1
    _say({"done": written, "seconds": {k: round(v, 3) for k, v in phases.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
