"""The fast reader for SQLite files: ADBC's driver in the SQLite child process.

ADBC carries its own copy of SQLite, which must not run in this process (taskkit._sqlite_child
.worker says why). The child is kept for the next read, and sends batches as Arrow IPC while
this process converts the previous ones.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy.sql.selectable import SelectBase

from taskkit._frames.column_types import Spec
from taskkit._frames.reader import (
    FastReaderFailed,
    ThreadedReader,
)
from taskkit._frames.statement_sql import SQLITE_FILLERS, Query, finish_batch, raw_query, raw_sql
from taskkit._frames.typed_columns import Column
from taskkit._sqlite_child import client, protocol
from taskkit._sqlite_child.client import ChildError, SQLiteChild

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect


# Replies read from the pipe and waiting to be converted (each a batch of chunksize rows).
_QUEUED = 32
_PIPE_READERS: tuple[int, concurrent.futures.ThreadPoolExecutor] | None = None
_pipe_readers_lock = threading.Lock()


def _pipe_readers() -> concurrent.futures.ThreadPoolExecutor:
    """Threads that empty a child's pipe while the reading thread converts, kept between reads
    (starting a thread for each read cost a millisecond or two); a forked process makes its
    own (its parent's threads are not in it)."""
    global _PIPE_READERS
    with _pipe_readers_lock:
        if _PIPE_READERS is None or _PIPE_READERS[0] != os.getpid():
            pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="taskkit-sqlite-pipe")
            _PIPE_READERS = (os.getpid(), pool)
        return _PIPE_READERS[1]


def _json_param(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise FastReaderFailed(f"a parameter of type {type(value).__name__} (bound by SQLAlchemy)")


class SQLiteReader(ThreadedReader):
    """ADBC's SQLite driver in the SQLite child process."""

    name = "adbc-sqlite"

    def __init__(self, path: str, dialect: Dialect) -> None:
        super().__init__(dialect)
        self.path = path
        self.child: SQLiteChild | None = None

    async def close(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            await asyncio.to_thread(client.close, child)

    def query(self, stmt: SelectBase, specs: list[Spec]) -> Query:
        return raw_query(stmt, specs)

    def _interrupt(self) -> None:
        if self.child is not None:
            self.child.kill()  # the reading thread then sees the end of its pipe

    def _fetch_sync(
        self, query: Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[Column]:
        try:
            return self._fetch_child(query, chunksize, on_rows)
        except ChildError as exc:  # an error reply leaves the child ready; a dead one is gone
            raise FastReaderFailed(str(exc)) from exc

    def _fetch_child(
        self, query: Query, chunksize: int, on_rows: Callable[[int], None] | None
    ) -> list[Column]:
        if self.child is None:  # opened here, in the fetch's thread: one trip to a thread fewer
            self.child = client.open_read(self.path)
        child = self.child
        out = [Column(spec) for spec in query.specs]
        if self.cancelled.is_set():  # cancelled while the child opened: the caller raises
            return out
        sql, params = raw_sql(query, self.dialect)
        flagged = query.flagged
        assert flagged is not None  # raw_query made both
        checks = [
            (v, "float" if spec.kind == "float" else "text")
            for spec, (v, _) in zip(query.specs, query.layout, strict=True)
            if spec.kind in SQLITE_FILLERS
        ]
        child.send(
            {
                "op": "query",
                "sql": [sql, raw_sql(flagged, self.dialect)[0]],
                "params": [_json_param(p) for p in params],
                "checks": checks,
                "batch_rows": chunksize,
            }
        )
        # A second thread empties the pipe while this one converts: the child reads SQLite on
        # its own core meanwhile (the pipe holds 1 MiB; the child would wait for us otherwise).
        replies: queue.Queue[tuple[dict[str, Any], bytes | None] | BaseException] = queue.Queue(
            _QUEUED
        )

        def drain() -> None:
            while True:
                try:
                    reply: tuple[dict[str, Any], bytes | None] | BaseException = child.receive()
                except BaseException as exc:  # handed over to the converting thread
                    reply = exc
                replies.put(reply)
                if not isinstance(reply, tuple) or "done" in reply[0]:
                    return

        drainer = _pipe_readers().submit(drain)
        try:
            while True:
                # The batches that arrived while the last ones were converted are converted
                # together: the same few Arrow calls for many rows rather than for each batch
                # (per batch, they cost more than the rows: 3.3M history rows came in 1,600).
                ready = [replies.get()]
                while len(ready) < _QUEUED:
                    try:
                        ready.append(replies.get_nowait())
                    except queue.Empty:
                        break
                batches: list[pa.RecordBatch] = []
                done = False
                for item in ready:
                    if isinstance(item, BaseException):
                        raise item
                    message, payload = item
                    if "done" in message:
                        done = True
                    elif "switch" in message:
                        query = flagged  # before any batch: the plain SQL sent none
                    else:
                        assert payload is not None
                        batches.extend(protocol.batches(payload))
                del ready, item, payload
                if batches:
                    rows = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
                    for column, array in zip(out, finish_batch(query, rows.columns), strict=True):
                        column.append(array)
                    if on_rows:
                        on_rows(rows.num_rows)
                    del rows, batches
                if done:
                    return out
        except ChildError:
            raise
        except BaseException:
            # Replies are left unread (a value outside its categories, an interruption): the
            # child cannot be reused. Killing it ends the draining thread at its next read.
            child.kill()
            self.child = None
            while not drainer.done():
                with contextlib.suppress(queue.Empty):
                    replies.get(timeout=0.1)
            raise
        finally:
            concurrent.futures.wait([drainer])
