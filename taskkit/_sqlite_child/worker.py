"""The SQLite child: ADBC's SQLite driver in a process of its own, serving one parent.

Why a process of its own: ADBC's SQLite driver carries its own copy of the SQLite library
(3.53 here, beside Python's 3.40). Two copies in one process break SQLite's POSIX locks:
closing a file in one copy drops the locks the other holds, and a copy that finds no lock taken
by itself may reset the WAL index others are using. The SQLite documentation lists this under
"how to corrupt a database"; taskkit hit it as "disk I/O error". Here the driver is safe, and a
killed child leaves an uncommitted transaction that SQLite rolls back.

Run as ``python -m taskkit._sqlite_child.worker IDLE_EXIT_S`` by ``client``; it imports only
pyarrow, ADBC and ``protocol``. Requests arrive on stdin, replies leave on stdout, one message
each (see ``protocol``); one database connection at a time:

* ``{"op": "read", "path", "busy_timeout_ms"}`` opens a deferred read transaction (one
  snapshot for every query until ``close``) -> ``{"ok": true}``.
* ``{"op": "query", "sql": [plain, flagged or null], "params", "checks", "batch_rows"}`` ->
  ``{"batch": rows}`` with the rows as data (the first batch of ``batch_rows`` rows alone, the
  later ones GROUP_BATCHES to a message), then ``{"done": true}``. When the
  first batch of the plain SQL lacks a type that ``checks`` asks for (ADBC types a column from
  its first batch, and a column of NULLs has none), ``{"switch": true}`` comes first and the
  flagged SQL's batches follow; so they do from the start when SQLite must sort the whole
  result before its first row (its query plan says so), which the plain SQL's retry would
  sort again.
* ``{"op": "write", "path", "busy_timeout_ms", "tables", "empty", "describe",
  "defer_indexes_if_empty", "check_foreign_keys"}`` takes the write lock
  (``BEGIN IMMEDIATE``; into an empty ``defer_indexes_if_empty`` table of a file nobody else
  has open, through a rollback journal, see ``Worker._journal_for_bulk``), empties the
  ``empty`` tables, and answers ``{"ok": true, "rows":
  [...]}``, the rows of each ``describe`` query. Then ``{"op": "ingest", "table"}`` messages
  with rows as data are each answered ``{"table", "rows"}``; ``{"op": "commit"}`` checks foreign
  keys, commits and answers ``{"done": rows per table, "seconds": per phase, "cpu_seconds":
  per phase}``; ``{"op": "abort"}`` rolls back and
  answers ``{"aborted": true}``. The end of input without either (the parent died) rolls back.
* ``{"op": "close"}`` rolls back whatever is open and closes the connection -> ``{"ok": true}``.

A failure answers ``{"error": "one line"}`` and the child stays ready for the next request,
except during a write's rows (the parent may still be sending them): it then rolls back and
exits. An idle child exits after IDLE_EXIT_S seconds; SIGINT is the parent's to handle.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

import pyarrow as pa

from taskkit._sqlite_child import protocol
from taskkit._sqlite_child.protocol import Message

__all__ = ["GROUP_BATCHES", "KILL_AT_VARIABLE", "Database", "Worker", "describe_error", "main"]

# A query's batches after its first go to the parent this many to a message.
GROUP_BATCHES = 8
# How long a write through a rollback journal waits for readers to let it switch back to WAL.
_BACK_TO_WAL_WAIT_MS = 2_000


def describe_error(exc: BaseException) -> str:
    """One line: the first of an error's message (a driver's may hold several), or its type,
    and its notes."""
    lines = str(exc).strip().splitlines()
    return "; ".join([lines[0] if lines else type(exc).__name__, *getattr(exc, "__notes__", [])])


class Database:
    """One ADBC connection to a SQLite file, through ADBC's low-level API (the DB-API module
    imports pandas: a second of start-up). Autocommit until a transaction is begun."""

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        import adbc_driver_manager as adbc
        import adbc_driver_sqlite

        self._adbc = adbc
        self._reading = False
        self._database = adbc_driver_sqlite.connect(path)
        self._connection = adbc.AdbcConnection(self._database)
        try:
            self.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        except BaseException:
            self.close()
            raise

    def begin_read(self) -> None:
        """One deferred transaction from here on: every query reads the same snapshot."""
        self._connection.set_autocommit(False)
        self._reading = True

    def execute(self, sql: str) -> None:
        statement = self._adbc.AdbcStatement(self._connection)
        try:
            statement.set_sql_query(sql)
            statement.execute_update()
        finally:
            statement.close()

    def rows(self, sql: str) -> list[list[Any]]:
        statement = self._adbc.AdbcStatement(self._connection)
        try:
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()
            table = pa.RecordBatchReader.from_stream(stream).read_all()
        finally:
            statement.close()
        return [list(row) for row in zip(*(c.to_pylist() for c in table.columns), strict=True)]

    def batches(
        self, sql: str, params: list[Any], batch_rows: int
    ) -> Generator[pa.RecordBatch, None, None]:
        """The result of ``sql`` (``?`` placeholders bound to ``params``), ``batch_rows`` rows a
        batch; the statement is closed when the iterator is."""
        statement = self._adbc.AdbcStatement(self._connection)
        try:
            statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
            statement.set_sql_query(sql)
            if params:
                names = [str(i) for i in range(len(params))]
                statement.bind(pa.record_batch([pa.array([p]) for p in params], names=names))
            handle, _ = statement.execute_query()
            reader = pa.RecordBatchReader.from_stream(handle)
            try:
                yield from reader
            finally:
                reader.close()
        finally:
            statement.close()

    def sorts(self, sql: str, params: list[Any]) -> bool:
        """Whether SQLite builds a temporary B-tree (a sort, a GROUP BY, a DISTINCT) before the
        first row of ``sql``: its query plan says so."""
        plan = self.batches(f"EXPLAIN QUERY PLAN {sql}", params, 1_000)
        try:
            return any(
                "USE TEMP B-TREE" in str(detail)
                for batch in plan
                for detail in batch.column(batch.num_columns - 1).to_pylist()
            )
        finally:
            plan.close()

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

    def roll_back(self, failure: BaseException) -> None:
        """Roll back the write transaction after ``failure``, which stays the error to report.

        SQLite rolls a transaction back by itself after some errors (a full disk); ROLLBACK
        then fails with "no transaction is active", which must not replace the real cause.
        """
        try:
            self.execute("ROLLBACK")
        except Exception as exc:
            if "no transaction is active" not in str(exc):
                failure.add_note(f"and the rollback failed too: {describe_error(exc)}")

    def close(self) -> None:
        """Close; a read transaction ends (a write transaction still open rolls back)."""
        try:
            if self._reading:
                self._connection.rollback()
        finally:
            self._connection.close()
            self._database.close()


def _back_to_wal(db: Database) -> None:
    """Put the file back in WAL mode after a write through a rollback journal. A reader that
    opened it meanwhile holds it for as long as its read lasts: wait a moment, then leave the
    switch to taskkit's engine, which makes it on connecting (the write itself is done)."""
    db.execute(f"PRAGMA busy_timeout={_BACK_TO_WAL_WAIT_MS}")
    with contextlib.suppress(Exception):  # "database is locked"
        db.rows("PRAGMA journal_mode=WAL")


def _untyped(batch: pa.RecordBatch, checks: list[list[Any]]) -> bool:
    """Whether a column that ``checks`` names came without its type (NULLs typed as int64)."""
    for index, kind in checks:
        kind_of = batch.schema.field(index).type
        typed = pa.types.is_floating(kind_of) if kind == "float" else pa.types.is_string(kind_of)
        if not typed:
            return True
    return False


#: A test hook: with this variable set to ``before-commit`` or ``after-commit``, a write's
#: child kills itself (SIGKILL) at that point, so that a test can know what a parent must say
#: when its writer dies around the COMMIT, without timing a kill.
KILL_AT_VARIABLE = "TASKKIT_TEST_SQLITE_CHILD_KILL_AT"


def _test_kill_point(name: str) -> None:
    if os.environ.get(KILL_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class _Stop(Exception):
    """A write failed while its rows were coming: the child must exit (after replying)."""


class _Aborted(Exception):
    pass


class Worker:
    """Serves requests from ``source`` with replies on ``out`` (``main`` passes the pipes)."""

    def __init__(self, source: IO[bytes], out: IO[bytes]) -> None:
        self.source = source
        self.out = out
        self.db: Database | None = None
        self.waiting_since: float | None = None  # when it began to wait for a request

    def send(self, message: Message, data: pa.RecordBatch | None = None) -> None:
        protocol.write(self.out, message, data)

    def serve(self, idle_exit_s: float | None = None) -> int:
        """Answer requests until the input ends (0) or a write fails midway (1); with
        ``idle_exit_s``, the process exits once it waited that long for a request."""
        if idle_exit_s is not None:
            threading.Thread(
                target=self._exit_when_idle, args=(idle_exit_s,), name="taskkit-idle", daemon=True
            ).start()
        try:
            while True:
                self.waiting_since = time.monotonic()
                received = protocol.read(self.source)
                self.waiting_since = None
                if received is None:
                    return 0
                request = received[0]
                try:
                    self.handle(request)
                except _Stop as stop:
                    self.send({"error": describe_error(stop)})
                    return 1
                except Exception as exc:
                    self.send({"error": describe_error(exc)})
        finally:
            self.close()

    def _exit_when_idle(self, idle_exit_s: float) -> None:
        # An idle child exits: a notebook left open should not keep one (and its memory)
        # forever. The parent reuses a child for less long than this, so never one that exits.
        while True:
            since = self.waiting_since
            left = idle_exit_s if since is None else since + idle_exit_s - time.monotonic()
            if left <= 0:
                os._exit(0)
            time.sleep(left)

    def handle(self, request: Message) -> None:
        op = request.get("op")
        if op == "read":
            self.close()
            self.db = Database(request["path"], request["busy_timeout_ms"])
            self.db.begin_read()
            self.send({"ok": True})
        elif op == "query":
            self.query(request)
        elif op == "write":
            self.close()
            self.db = Database(request["path"], request["busy_timeout_ms"])
            try:
                self.write(request)
            finally:
                self.close()  # committed, rolled back or failed: the connection is done
        elif op == "close":
            self.close()
            self.send({"ok": True})
        else:
            raise ValueError(f"unknown request {op!r}")

    def close(self) -> None:
        db, self.db = self.db, None
        if db is not None:
            db.close()

    # --- reading -------------------------------------------------------------------------

    def query(self, request: Message) -> None:
        if self.db is None:
            raise ValueError("query before read: no database is open")
        sqls = [sql for sql in request["sql"] if sql]
        if len(sqls) > 1 and self.db.sorts(sqls[0], request["params"]):
            # The whole result is sorted before its first row: the flagged SQL from the start,
            # rather than a second sort if the first batch cannot type a column.
            self.send({"switch": True})
            sqls = sqls[1:]
        for attempt, sql in enumerate(sqls):
            batches = self.db.batches(sql, request["params"], request["batch_rows"])
            try:
                first = next(batches, None)
                # A first batch shorter than batch_rows is the whole result: no later batch
                # can meet a type the first one guessed otherwise, so it is sent as it is.
                retry = (
                    first is not None
                    and first.num_rows >= request["batch_rows"]
                    and attempt + 1 < len(sqls)
                )
                if retry and _untyped(first, request["checks"]):
                    self.send({"switch": True})
                    continue
                if first is not None:
                    self.send({"batch": first.num_rows}, first)
                self._send_grouped(batches)
                self.send({"done": True})
                return
            finally:
                batches.close()

    def _send_grouped(self, batches: Iterator[pa.RecordBatch]) -> None:
        """Send the batches after the first GROUP_BATCHES to a message: a message costs both
        processes about as much as a few thousand rows (framing, a pipe write, an Arrow IPC
        stream, the parent's conversion calls); the first batch went alone, so that the
        parent starts converting at once."""
        group: list[pa.RecordBatch] = []
        for batch in batches:
            group.append(batch)
            if len(group) >= GROUP_BATCHES:
                self._send_group(group)
                group = []
        if group:
            self._send_group(group)

    def _send_group(self, group: list[pa.RecordBatch]) -> None:
        rows = pa.Table.from_batches(group)
        self.send({"batch": rows.num_rows}, rows)

    # --- writing -------------------------------------------------------------------------

    def write(self, request: Message) -> None:
        db = self.db
        assert db is not None
        phases: dict[str, float] = {}
        cpu: dict[str, float] = {}
        mark, cpu_mark = time.perf_counter(), time.process_time()

        def lap(name: str) -> None:
            nonlocal mark, cpu_mark
            now, cpu_now = time.perf_counter(), time.process_time()
            phases[name] = phases.get(name, 0.0) + now - mark
            cpu[name] = cpu.get(name, 0.0) + cpu_now - cpu_mark
            mark, cpu_mark = now, cpu_now

        # Foreign keys are checked once, in bulk, before COMMIT (PRAGMA foreign_key_check):
        # cheaper than a lookup per inserted row, and just as strict.
        db.execute("PRAGMA foreign_keys=OFF")
        # CREATE INDEX sorts within cache_size. A small budget makes the sorter cut the rows
        # into runs that helper threads sort in parallel (threads=2) and then merge: measured
        # on 1M tasks, the index builds took 1.25 s with 8 MiB and 1.9 s with 128 MiB.
        db.execute("PRAGMA cache_size=-8192")
        db.execute("PRAGMA threads=2")
        rollback_journal = self._journal_for_bulk(db, request)
        # As taskkit's engine does: in WAL mode, sync at checkpoints rather than every commit
        # (a killed process loses nothing; only a power cut can undo the last commit). With a
        # rollback journal, FULL: SQLite's default there, safe against a power cut too.
        db.execute(f"PRAGMA synchronous={'FULL' if rollback_journal else 'NORMAL'}")
        # The write lock up front: the look at existing rows and the writes are one snapshot.
        db.execute("BEGIN IMMEDIATE")
        try:
            written = self._write(db, request, lap)
        except _Aborted:
            db.execute("ROLLBACK")
            if rollback_journal:
                _back_to_wal(db)
            self.send({"aborted": True})
            return
        except BaseException as failure:
            db.roll_back(failure)
            if rollback_journal:
                _back_to_wal(db)
            raise
        if rollback_journal:
            _back_to_wal(db)
            lap("back to WAL")
        self.close()  # before "done": the parent may use the file as soon as it reads it
        lap("close")
        self.send(
            {
                "done": written,
                "seconds": {k: round(v, 3) for k, v in phases.items()},
                "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
            }
        )

    def _write(self, db: Database, request: Message, lap: Callable[[str], None]) -> dict[str, int]:
        tables: list[str] = request["tables"]
        for name in request["empty"]:
            db.execute(f'DELETE FROM "{name}"')
        self.send({"ok": True, "rows": [db.rows(sql) for sql in request["describe"]]})
        # From here on the parent sends rows without waiting: a failure ends the child.
        written: dict[str, int] = {}
        try:
            indexes = self._defer_indexes(db, tables, request.get("defer_indexes_if_empty"))
            lap("open")
            for message, table in self._rows_ahead():
                lap("wait for rows")
                op = message.get("op")
                if op == "commit":
                    break
                if op == "abort":
                    raise _Aborted
                name = message.get("table")
                if op != "ingest" or name not in tables:
                    raise ValueError(f"unexpected message while writing: {message}")
                if table.num_rows:
                    db.ingest(name, table)
                written[name] = written.get(name, 0) + table.num_rows
                self.send({"table": name, "rows": table.num_rows})
                lap(f"insert {name}")
            else:
                raise _Stop("input ended without a commit: the parent went away")
            for index_name, sql in indexes:
                db.execute(sql)
                lap(f"index {index_name}")
            broken = db.rows("PRAGMA foreign_key_check") if request["check_foreign_keys"] else []
            lap("foreign key check")
            if broken:
                table_name, rowid, parent, _ = broken[0]
                row = "" if rowid is None else f" row {rowid}"  # WITHOUT ROWID tables have none
                raise ValueError(
                    f"FOREIGN KEY constraint failed: {len(broken):,} reference(s) to missing "
                    f"rows, e.g. {table_name}{row} -> {parent}"
                )
            _test_kill_point("before-commit")
            db.execute("COMMIT")
            _test_kill_point("after-commit")
            lap("commit")
        except (_Aborted, _Stop):
            raise
        except BaseException as exc:
            raise _Stop(describe_error(exc)) from exc
        return written

    @staticmethod
    def _journal_for_bulk(db: Database, request: Message) -> bool:
        """Into an empty database that nobody else has open, write through a rollback journal
        rather than the WAL; return whether it does.

        In WAL mode every page is written twice: into the WAL during the transaction, then
        copied into the database file by the checkpoint that follows the commit. Measured on
        a 1M-task seed (750 MB), that copy was 1.4 to 2.3 s of 9 to 11 s. With a rollback
        journal, pages the file did not have before (all of them, into empty tables) are
        written once and need no journal at all; a killed writer leaves a journal that the next
        connection rolls back, as a WAL transaction would be. The switch needs the file to
        itself: with any other connection open (it would read in WAL mode) SQLite refuses at
        once, and the write goes through the WAL as before. Readers that arrive during the
        write wait for its commit (their busy timeout) instead of reading the empty tables.
        The mode is a setting of the file: ``_back_to_wal`` restores it after the write, and
        taskkit's engine does on connecting if that could not.
        """
        table = request.get("defer_indexes_if_empty")
        if table is None:
            return False
        try:
            if db.rows(f'SELECT EXISTS (SELECT 1 FROM "{table}")')[0][0]:
                return False
        except Exception:  # no such table: the write refuses it, as it would anyway
            return False
        db.execute("PRAGMA busy_timeout=0")  # not wait: anyone else's connection keeps WAL
        try:
            mode = db.rows("PRAGMA journal_mode=DELETE")[0][0]
        except Exception:  # "database is locked": open elsewhere
            mode = "wal"
        finally:
            db.execute(f"PRAGMA busy_timeout={int(request['busy_timeout_ms'])}")
        return str(mode).lower() == "delete"

    @staticmethod
    def _defer_indexes(db: Database, tables: list[str], if_empty: str | None) -> list[list[Any]]:
        """Into an empty table, building indexes once at the end (a sort) is much faster than
        updating them row by row; same transaction, so readers never see them missing. Drops
        the indexes of ``tables`` when ``if_empty`` holds no rows; returns how to rebuild them."""
        if if_empty is None or db.rows(f'SELECT EXISTS (SELECT 1 FROM "{if_empty}")')[0][0]:
            return []
        listed = ", ".join(f"'{name}'" for name in tables)
        indexes = db.rows(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({listed}) ORDER BY name"
        )
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        return indexes

    def _rows_ahead(self) -> Iterator[tuple[Message, pa.Table]]:
        """The write's messages until its commit or abort, each read (and its rows decoded) by
        a thread while this one writes the one before. Ends early when the input does."""
        ready: queue.Queue[tuple[Message, pa.Table] | BaseException | None] = queue.Queue(1)
        stopped = threading.Event()

        def put(item: tuple[Message, pa.Table] | BaseException | None) -> None:
            while not stopped.is_set():  # the writer stopped taking them: drop the rest
                try:
                    ready.put(item, timeout=0.1)
                    return
                except queue.Full:
                    pass

        def read_ahead() -> None:
            try:
                while (received := protocol.read(self.source)) is not None:
                    message, payload = received
                    put((message, pa.table({}) if payload is None else protocol.decode(payload)))
                    if message.get("op") in ("commit", "abort"):
                        return
                put(None)
            except BaseException as exc:
                put(exc)

        threading.Thread(target=read_ahead, name="taskkit-sqlite-rows", daemon=True).start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stopped.set()


def main(argv: list[str] | None = None) -> None:
    """Serve the parent on this process's stdin and stdout, then exit."""
    args = sys.argv[1:] if argv is None else argv
    idle_exit_s = float(args[0]) if args else None
    # Ctrl-C reaches every process of the terminal's group: the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Replies get a descriptor of their own; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    code = Worker(sys.stdin.buffer, out).serve(idle_exit_s)
    out.flush()
    # At once: a thread may still wait for input after a failed write, and the interpreter's
    # shutdown would wait for stdin's lock.
    os._exit(code)


if __name__ == "__main__":
    main()
