"""The fast reader for SQLite files: ADBC's driver in a helper process (see _SQLITE_CHILD)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
from sqlalchemy.sql.selectable import SelectBase

from taskkit._frames.columns import _Column
from taskkit._frames.queries import _SQLITE_FILLERS, _finish_batch, _Query, _sqlite_raw_query
from taskkit._frames.readers import _compile, _FastReaderFailed, _opened_in_thread, _ThreadedReader
from taskkit._frames.specs import _Spec

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect


# The SQLite helper process. ADBC's SQLite driver carries its own copy of SQLite (3.53 here,
# beside Python's 3.40), and two copies in one process break SQLite's POSIX locks: closing a
# file in one copy drops the locks the other copy holds, and a copy that finds no lock taken by
# itself may reset the WAL index others are using (the SQLite documentation lists it under
# "how to corrupt a database"; taskkit.sqlite_writer hit it as "disk I/O error"). So the driver
# runs in a child process, kept for the next read (starting one costs about half a second),
# and batches come back as Arrow IPC while this process converts the previous ones.
#
# Protocol: one JSON request per line on stdin; replies are frames <kind: 1 byte><size: u64>
# <payload>: K ok, B an Arrow IPC stream holding one batch, S switched to the NULL-flagged SQL,
# D done, E error (the child is then ready for the next request).
_SQLITE_CHILD = r"""
import json, select, struct, sys
import pyarrow as pa
import adbc_driver_manager as manager
import adbc_driver_sqlite as driver

out = sys.stdout.buffer
db = conn = None

def send(kind, payload=b""):
    out.write(kind + struct.pack("<Q", len(payload)))
    if len(payload):
        out.write(payload)
    out.flush()

def run(sql, params, batch_rows):
    statement = manager.AdbcStatement(conn)
    statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
    statement.set_sql_query(sql)
    if params:
        names = [str(i) for i in range(len(params))]
        statement.bind(pa.record_batch([pa.array([p]) for p in params], names=names))
    handle, _ = statement.execute_query()
    return statement, pa.RecordBatchReader.from_stream(handle)

def untyped(batch, checks):
    for index, kind in checks:
        t = batch.schema.field(index).type
        if not (pa.types.is_floating(t) if kind == "float" else pa.types.is_string(t)):
            return True
    return False

def query(request):
    sqls = [s for s in request["sql"] if s]
    for attempt, sql in enumerate(sqls):
        statement, reader = run(sql, request["params"], request["batch_rows"])
        try:
            batches = iter(reader)
            first = next(batches, None)
            if first is not None and attempt + 1 < len(sqls) and untyped(first, request["checks"]):
                send(b"S")
                continue
            while first is not None:
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, first.schema) as writer:
                    writer.write_batch(first)
                send(b"B", sink.getvalue())
                first = next(batches, None)
            send(b"D")
            return
        finally:
            reader.close()
            statement.close()

def end():
    global db, conn
    if conn is not None:
        conn.rollback()
        conn.close()
    if db is not None:
        db.close()
    db = conn = None

stdin = sys.stdin.buffer
while True:
    try:  # idle too long: exit (the parent does not reuse a helper this old)
        if not select.select([stdin], [], [], float(sys.argv[1]))[0]:
            break
    except (OSError, ValueError):  # no select on this pipe: just wait
        pass
    line = stdin.readline()
    if not line:
        break  # the parent is gone
    request = json.loads(line)
    try:
        if request["op"] == "begin":
            end()
            db = driver.connect(request["path"])
            conn = manager.AdbcConnection(db)
            conn.set_autocommit(False)  # one deferred read transaction: one snapshot
            statement, reader = run("PRAGMA busy_timeout=%d" % request["busy_timeout_ms"], [], 1)
            reader.read_all(), reader.close(), statement.close()
            send(b"K")
        elif request["op"] == "query":
            query(request)
        else:
            end()
            send(b"K")
    except Exception as exc:
        send(b"E", ("%s: %s" % (type(exc).__name__, exc)).encode())
"""


class _SQLiteChild:
    """One helper process running ADBC's SQLite driver; idle ones wait for the next read."""

    _idle: ClassVar[list[_SQLiteChild]] = []
    _lock = threading.Lock()
    IDLE_MAX = 2
    # An idle helper exits after EXIT_AFTER_S (a notebook left open should not keep one, and
    # its memory, forever); it is not reused after REUSE_FOR_S, so it never exits under a read.
    EXIT_AFTER_S = 300.0
    REUSE_FOR_S = 240.0

    def __init__(self) -> None:
        self.pid = os.getpid()  # a forked copy of this process must not share its pipes
        self.released_at = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SQLITE_CHILD, str(self.EXIT_AFTER_S)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        if sys.platform == "linux" and self.proc.stdout is not None:
            import fcntl

            with contextlib.suppress(OSError):  # fewer wake-ups per batch; 1 MiB is the default cap
                fcntl.fcntl(self.proc.stdout.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ

    @classmethod
    def acquire(cls) -> _SQLiteChild:
        with cls._lock:
            while cls._idle:
                child = cls._idle.pop()
                if child.pid != os.getpid():
                    continue  # started by the process this one was forked from: its own
                fresh = time.monotonic() - child.released_at < cls.REUSE_FOR_S
                if fresh and child.proc.poll() is None:
                    return child
                child.kill()
        return cls()

    def release(self) -> None:
        with self._lock:
            if self.proc.poll() is None and len(self._idle) < self.IDLE_MAX:
                self.released_at = time.monotonic()
                self._idle.append(self)
                return
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    @classmethod
    def stop_all(cls) -> None:
        with cls._lock:
            idle, cls._idle = cls._idle, []
        for child in idle:
            child.kill()

    def send(self, request: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:  # ValueError: its pipe was closed (killed)
            self.kill()
            raise _FastReaderFailed(f"the SQLite reader process is gone ({exc})") from exc

    def receive(self) -> tuple[bytes, bytes]:
        assert self.proc.stdout is not None
        try:
            head = self.proc.stdout.read(9)
            size = struct.unpack("<Q", head[1:])[0] if len(head) == 9 else 0
            payload = self.proc.stdout.read(size) if size else b""
        except ValueError:  # its pipe was closed: it was killed (a cancelled read)
            head = payload = b""
            size = 0
        if len(head) < 9 or len(payload) < size:
            self.kill()
            raise _FastReaderFailed(
                f"the SQLite reader process ended (exit status {self.proc.returncode})"
            )
        if head[:1] == b"E":
            raise _FastReaderFailed(payload.decode(errors="replace"))
        return head[:1], payload


atexit.register(_SQLiteChild.stop_all)


def _json_param(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise _FastReaderFailed(f"a parameter of type {type(value).__name__} (bound by SQLAlchemy)")


class _SQLiteReader(_ThreadedReader):
    """ADBC's SQLite driver in a helper process (see _SQLITE_CHILD for why not here)."""

    name = "adbc-sqlite"

    def __init__(self, path: str, dialect: Dialect) -> None:
        super().__init__(dialect)
        self.path = path
        self.child: _SQLiteChild | None = None

    async def open(self) -> None:
        self.child = await _opened_in_thread(self._begin, self._end)

    def _begin(self) -> _SQLiteChild:
        from taskkit._db import SQLITE_BUSY_TIMEOUT_MS

        try:
            child = _SQLiteChild.acquire()
        except OSError as exc:
            raise _FastReaderFailed(f"cannot start the SQLite reader process: {exc}") from exc
        request = {"op": "begin", "path": self.path, "busy_timeout_ms": SQLITE_BUSY_TIMEOUT_MS}
        try:
            child.send(request)
            child.receive()
        except _FastReaderFailed:
            child.release()  # an E reply leaves it ready for the next read; a dead one goes
            raise
        return child

    async def close(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            await asyncio.to_thread(self._end, child)

    @staticmethod
    def _end(child: _SQLiteChild) -> None:
        try:
            child.send({"op": "end"})
            child.receive()
        except _FastReaderFailed:
            child.kill()
            return
        child.release()

    def query(self, stmt: SelectBase, specs: list[_Spec]) -> _Query:
        query = _sqlite_raw_query(stmt, specs, flag_nulls=False)
        query.flagged = _sqlite_raw_query(stmt, specs, flag_nulls=True)
        return query

    def _interrupt(self) -> None:
        if self.child is not None:
            self.child.kill()  # the reading thread then sees the end of its pipe

    def _fetch_sync(
        self, query: _Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[_Column]:
        child = self.child
        assert child is not None
        out = [_Column(spec) for spec in query.specs]
        sql, params = _compile(query.stmt, self.dialect, literals=False)
        flagged = query.flagged
        checks = [
            (v, "float" if spec.kind == "float" else "text")
            for spec, (v, _) in zip(query.specs, query.layout, strict=True)
            if spec.kind in _SQLITE_FILLERS
        ]
        child.send(
            {
                "op": "query",
                "sql": [
                    sql,
                    None
                    if flagged is None
                    else _compile(flagged.stmt, self.dialect, literals=False)[0],
                ],
                "params": [_json_param(p) for p in params],
                "checks": checks,
                "batch_rows": chunksize,
            }
        )
        # A second thread empties the pipe while this one converts: the child reads SQLite on
        # its own core meanwhile (a pipe holds 64 KiB; the child would wait for us otherwise).
        frames: queue.Queue[tuple[bytes, bytes] | BaseException] = queue.Queue(maxsize=1)

        def drain() -> None:
            while True:
                try:
                    frame: tuple[bytes, bytes] | BaseException = child.receive()
                except BaseException as exc:  # handed over to the converting thread
                    frame = exc
                frames.put(frame)
                if not isinstance(frame, tuple) or frame[0] == b"D":
                    return

        drainer = threading.Thread(target=drain, name="taskkit-sqlite-pipe", daemon=True)
        drainer.start()
        try:
            while True:
                item = frames.get()
                if isinstance(item, BaseException):
                    raise item
                kind, payload = item
                if kind == b"D":
                    return out
                if kind == b"S" and flagged is not None:
                    query = flagged
                    continue
                batch = pa.ipc.open_stream(payload).read_next_batch()
                del item, payload
                for column, array in zip(out, _finish_batch(query, batch.columns), strict=True):
                    column.append(array)
                if on_rows:
                    on_rows(batch.num_rows)
        except _FastReaderFailed:
            raise
        except BaseException:
            # Frames are left unread (a value outside its categories, an interruption): the
            # child cannot be reused. Killing it ends the draining thread at its next read.
            child.kill()
            self.child = None
            while drainer.is_alive():
                with contextlib.suppress(queue.Empty):
                    frames.get(timeout=0.1)
            raise
        finally:
            drainer.join()
