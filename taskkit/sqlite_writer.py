"""A child process that bulk-writes Arrow batches into a SQLite file with ADBC.

Why a child process: ADBC's SQLite driver carries its own copy of the SQLite library. Two
copies of SQLite in one process break SQLite's POSIX locks (closing a file in one copy drops
the locks the other copy holds), which the SQLite documentation lists as a way to corrupt a
database; we reproduced it here ("disk I/O error" on the next connection). In its own process
the fast driver is safe, and a killed child simply leaves an uncommitted transaction that
SQLite rolls back.

Protocol (parent ``taskkit.bulk`` <-> this module, run as ``python -m taskkit.sqlite_writer``):

1. argv: the database path and ``keep`` or ``replace``.
2. The child takes the write lock (``BEGIN IMMEDIATE``), empties the tables for ``replace``,
   and prints one JSON line describing what the database holds.
3. The parent sends frames on stdin: ``<u32 name length><name><u64 size><Arrow IPC stream>``;
   the child ingests each and prints ``{"table": name, "rows": n}``. A frame named ``!commit``
   commits; ``!abort`` or the end of input without it (the parent died) rolls back.
4. Last line: ``{"done": {...rows per table...}}`` or ``{"error": "..."}`` (exit status 1).
"""

import json
import struct
import sys
from typing import Any, BinaryIO

import pyarrow as pa

__all__ = [
    "ABORT",
    "COMMIT",
    "PROJECTS_SQL",
    "SUMMARY_SQL",
    "TABLES",
    "WORKERS_SQL",
    "read_frame",
    "write_frame",
]

ABORT = "!abort"
COMMIT = "!commit"
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


def _run(path: str, on_existing: str) -> dict[str, int]:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    written: dict[str, int] = {}
    # autocommit: the driver issues no BEGIN of its own; we take the write lock up front
    # (BEGIN IMMEDIATE), so the look at existing rows and the writes are one snapshot.
    with adbc_sqlite.connect(path, autocommit=True) as conn, conn.cursor() as cur:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]

        # Foreign keys are checked once, in bulk, before COMMIT (PRAGMA foreign_key_check):
        # cheaper than a lookup per inserted row, and just as strict.
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA cache_size=-131072")  # 128 MiB of page cache for index builds
        cur.execute("PRAGMA threads=2")  # CREATE INDEX may sort with a helper thread
        # As taskkit's engine does: in WAL mode, sync at checkpoints rather than every commit
        # (a killed process loses nothing; only a power cut can undo the last commit).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("BEGIN IMMEDIATE")
        try:
            if on_existing == "replace":
                for name in reversed(TABLES):
                    cur.execute(f"DELETE FROM {name}")
            summary = rows(SUMMARY_SQL)[0]
            _say(
                {
                    "summary": list(summary),
                    "projects": rows(PROJECTS_SQL),
                    "workers": rows(WORKERS_SQL),
                }
            )
            # Into an empty database, building indexes once at the end (a sort) is much faster
            # than updating them row by row. Same transaction: readers never see them missing.
            listed = ", ".join(f"'{name}'" for name in TABLES)
            indexes = rows(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({listed}) ORDER BY name"
            )
            if summary[2] != 0:  # tasks already there: keep their indexes
                indexes = []
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            while True:
                frame = read_frame(sys.stdin.buffer)
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
                    cur.adbc_ingest(name, table, mode="append")
                written[name] = written.get(name, 0) + table.num_rows
                _say({"table": name, "rows": table.num_rows})
            for _, sql in indexes:
                cur.execute(sql)
            broken = rows("PRAGMA foreign_key_check")
            if broken:
                table_name, rowid, parent, _ = broken[0]
                raise ValueError(
                    f"{len(broken):,} row(s) refer to missing rows, "
                    f"e.g. {table_name} row {rowid} -> {parent}"
                )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    return written


class _Aborted(Exception):
    pass


def main() -> int:
    path, on_existing = sys.argv[1], sys.argv[2]
    try:
        written = _run(path, on_existing)
    except _Aborted:
        _say({"aborted": True})
        return 0
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _say({"error": first})
        return 1
    _say({"done": written})
    return 0


if __name__ == "__main__":
    sys.exit(main())
