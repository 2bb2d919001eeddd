"""A bulk write through the child: it opens the file with the write lock, the parent sends the
batches (Arrow IPC, generated and encoded ahead in a thread while the child inserts the last
ones) and the COMMIT; the child reports rows as it writes them. Used by ``taskkit._bulk`` for
an engine's SQLite file, and by ``taskkit._new_sqlite_file`` for a file it creates (no
SQLAlchemy there): this module needs no engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from taskkit._bulk_parts import (
    LABELS_SQL,
    PROJECTS_SQL,
    SUMMARY_SQL,
    TABLES,
    WORKERS_SQL,
    Batch,
    BatchFactory,
    count_written,
    existing_from,
    prepared_ahead,
    sqlite_ready,
)
from taskkit._database.sqlite_file import open_sqlite
from taskkit._errors import BulkWriteError
from taskkit._sqlite_child import client, protocol
from taskkit._sqlite_child.client import ChildError, SQLiteChild

__all__ = ["write_file"]

log = logging.getLogger("taskkit.bulk")


async def write_file(
    path: str,
    make_batches: BatchFactory,
    *,
    replace: bool,
    bar: Any,
    check_foreign_keys: bool,
    refused_to_open: Callable[[ChildError], BaseException | None] = lambda exc: None,
) -> dict[str, int]:
    """Write the batches of ``make_batches(existing)`` into the SQLite file ``path`` through
    the child, in one transaction (``replace``: every taskkit row deleted first).

    Into an empty database that nobody else has open, the child writes through a rollback
    journal instead of the WAL: each page once, not twice (``Worker._journal_for_bulk``); the
    caller closes its own idle connections to the file first. ``refused_to_open`` may turn the
    child's refusal to open the write (a missing table) into the error to raise.

    Raises:
        BulkWriteError: the database refused the write, or the child stopped; the message says
            whether anything was stored.
    """
    opening = asyncio.ensure_future(
        asyncio.to_thread(
            client.open_write,
            path,
            tables=list(TABLES),
            empty=list(reversed(TABLES)) if replace else [],
            describe=[SUMMARY_SQL, PROJECTS_SQL, WORKERS_SQL, LABELS_SQL],
            # Into an empty task table, indexes are built once at the end (a sort).
            defer_indexes_if_empty="task",
            check_foreign_keys=check_foreign_keys,
        )
    )
    try:
        child, (summary, projects, workers, labels) = await asyncio.shield(opening)
    except ChildError as exc:
        raise refused_to_open(exc) or _stopped(exc, "before it answered") from None
    except asyncio.CancelledError:
        # Cancelled while the child opens the database: end it once it answered.
        with contextlib.suppress(BaseException):
            (await opening)[0].kill()
        raise
    progress: asyncio.Future[dict[str, int]] | None = None
    sent = _Sent()
    written: dict[str, int] = {}
    try:
        existing = existing_from(tuple(summary[0]), projects, workers, labels)
        progress = asyncio.ensure_future(_follow(child, written, bar, sent))
        await _send_batches(child, make_batches(existing), progress, sent)
        done = await progress
    except _GoneAfterCommit as gone:
        # The COMMIT was asked for: it may have taken effect before the child ended. Look.
        child.kill()
        raise await _after_commit(path, sent, written, gone.reason) from None
    except BaseException:
        # Refused, cancelled (Ctrl-C), or anything unexpected: a killed child's transaction
        # is rolled back by SQLite, so the database stays exactly as it was.
        child.kill()
        if progress is not None:
            # Its error ("the writer stopped": we killed it) is not the one to report, and
            # unretrieved, asyncio prints it with a traceback ("Task exception was never
            # retrieved") when Ctrl-C ends the program.
            progress.cancel()
            await asyncio.wait([progress])
            if not progress.cancelled():
                progress.exception()
        raise
    child.release()  # committed: ready for the next read or write
    return done


@dataclass
class _Sent:
    """What the parent sent the child: whether the COMMIT went, and the last row of the write
    (its table, and the row as stored), by which the database tells whether it committed."""

    commit: bool = False
    last: tuple[str, dict[str, Any]] | None = None


class _GoneAfterCommit(Exception):
    """The child ended after the COMMIT was sent, before it said whether it committed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _after_commit(
    path: str, sent: _Sent, written: dict[str, int], reason: str
) -> BulkWriteError:
    """What to say when the child ended after the COMMIT was sent: what the database holds.

    A commit is all or nothing, so the write's last row tells: there, every row was stored;
    missing, none was. Only what is known is said.
    """
    shown = ", ".join(f"{rows:,} {name}" for name, rows in written.items() if rows) or "no rows"
    if sent.last is None:
        return BulkWriteError(
            f"{reason} after its COMMIT was sent; the write held no rows, so the database "
            "holds what it held"
        )
    table, row = sent.last

    def look() -> bool:
        conn = open_sqlite(path)  # read-only; SQLite rolls back what the child left undone
        try:
            where = " AND ".join(f'"{name}" IS ?' for name in row)
            found = conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE {where}', tuple(row.values())
            )
            return bool(found.fetchone()[0])
        finally:
            conn.close()

    try:
        stored = await asyncio.to_thread(look)
    except sqlite3.Error as exc:
        return BulkWriteError(
            f"{reason} after its COMMIT was sent, and whether the write ({shown}) was stored "
            f"could not be checked ({exc}): look at the database before writing the same data "
            "again"
        )
    if stored:
        return BulkWriteError(
            f"{reason} just after its COMMIT: the write was stored, "
            f"all of it ({shown}; its last row is in the database, and a commit stores all or "
            "nothing); do not write the same data again"
        )
    return BulkWriteError(
        f"{reason} before its COMMIT took effect: nothing was "
        "stored (the write's last row is not in the database, and a commit stores all or "
        "nothing)"
    )


def _stopped(exc: ChildError, when: str) -> BulkWriteError:
    """The child's one-line refusal, or why it is gone, as the error to report."""
    if exc.gone:
        return BulkWriteError(f"the SQLite writer stopped {when}, nothing was stored: {exc}")
    return BulkWriteError(f"the database refused the write, nothing was stored: {exc}")


async def _send_batches(
    child: SQLiteChild,
    batches: Iterable[Batch],
    progress: asyncio.Future[dict[str, int]],
    sent: _Sent,
) -> None:
    """Send every batch, then the commit; on an error, the abort if possible."""

    def encoded(name: str, table: pa.Table) -> tuple[list[Any], tuple[str, dict[str, Any]] | None]:
        ready = sqlite_ready(table)
        last = (name, ready.slice(ready.num_rows - 1).to_pylist()[0]) if ready.num_rows else None
        return protocol.encode({"op": "ingest", "table": name}, ready), last

    # Batches go down the pipe from worker threads with blocking writes: the kernel wakes a
    # blocked writer as soon as the child reads, with no event-loop turn (nor the GIL, which
    # the generating thread holds) per megabyte.
    try:
        async with contextlib.aclosing(prepared_ahead(batches, encoded)) as ready:
            async for parts, last in ready:
                await asyncio.to_thread(child.send_encoded, parts)
                sent.last = last or sent.last
        # Set first: the child may commit and end before this coroutine runs again, and
        # _follow, learning it ended, must know the COMMIT may have taken effect.
        sent.commit = True
        await asyncio.to_thread(child.send, {"op": "commit"})
    except ChildError:
        await progress  # the child stopped early: its last message says why (and raises)
        raise BulkWriteError("the SQLite writer stopped early, nothing was stored") from None
    except Exception:
        # The batch factory refused or failed (no write is under way): ask the child to roll
        # back and wait for it to say so.
        with contextlib.suppress(ChildError):
            await asyncio.to_thread(child.send, {"op": "abort"})
        await progress
        raise


async def _follow(
    child: SQLiteChild, written: dict[str, int], bar: Any, sent: _Sent | None = None
) -> dict[str, int]:
    """Read the child's reports until it is done; rows per table."""
    while True:
        try:
            message, _ = await asyncio.to_thread(child.receive)
        except ChildError as exc:
            if exc.gone and sent is not None and sent.commit:
                raise _GoneAfterCommit(str(exc)) from None
            raise _stopped(exc, "early") from None
        if "table" in message:
            count_written(written, message["table"], message["rows"], bar)
        elif "done" in message or "aborted" in message:
            if "seconds" in message:
                log.debug("SQLite writer, seconds per phase: %s", message["seconds"])
                log.debug("SQLite writer, CPU time per phase (s): %s", message.get("cpu_seconds"))
            return written
