"""The parent's side of the SQLite child: start one, talk to it, keep it for the next read or
write, and end it.

Starting a child costs 130 to 170 ms (Python, pyarrow and ADBC's driver, on the 2-core
machine; reusing one, half a millisecond), so a child that finished its work cleanly waits,
idle, for the next one (``release``); one in an unknown state (interrupted, failed while rows
were coming) is killed instead. Every child is waited
for once it ends, so none is left as a zombie, and idle ones end when this process does.

The calls block: callers run them in a worker thread, and ``kill`` (from any thread) makes a
call blocked on the child return at once with a ``ChildError``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from taskkit._database.sqlite_file import SQLITE_BUSY_TIMEOUT_MS  # as the engine's connections
from taskkit._sqlite_child import protocol
from taskkit._sqlite_child.protocol import Message

__all__ = ["ChildError", "SQLiteChild", "close", "open_read", "open_write"]

# The directory holding this taskkit package: the child runs with it as its working directory,
# so that `-m` finds exactly the code this process runs (a checkout or an installed copy).
_ROOT = Path(__file__).resolve().parents[2]


class ChildError(Exception):
    """The child refused a request (the message is its one-line reason), or is gone
    (``gone``: it cannot be started, its pipes broke, or it ended)."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


class SQLiteChild:
    """One child process (``worker``); idle ones wait in a small pool for the next use."""

    _idle: ClassVar[list[SQLiteChild]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()
    # Wakes the reaper (one thread for every idle child: starting a timer thread per release
    # cost a millisecond or two of each read) when an idle child has an earlier expiry.
    _changed: ClassVar[threading.Condition] = threading.Condition(_lock)
    _reaper: ClassVar[tuple[int, threading.Thread] | None] = None  # (this process, thread)
    IDLE_MAX = 2
    # An idle child is ended after REUSE_FOR_S (a notebook left open should not keep one, and
    # its memory, forever); it would end itself after EXIT_AFTER_S, should this process hang.
    REUSE_FOR_S = 240.0
    EXIT_AFTER_S = 300.0

    def __init__(self) -> None:
        self.owner = os.getpid()  # a forked copy of this process must not share its pipes
        self.reused = False  # taken from the idle ones rather than started for this use
        self.expires_at = 0.0  # while idle: when the reaper ends it (time.monotonic())
        self.ended_because: str | None = None  # once ended: its last words, or exit status
        # What the child writes to stderr, read once it ended (why it did); closed by kill().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "taskkit._sqlite_child.worker", str(self.EXIT_AFTER_S)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=_ROOT,
            )
        except OSError as exc:
            self._stderr.close()
            raise ChildError(f"cannot start the SQLite helper process: {exc}", gone=True) from exc
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin = self.proc.stdin
        self.stdout = self.proc.stdout
        for pipe in (self.stdin, self.stdout):
            protocol.widen_pipe(pipe.fileno())

    # --- the pool ------------------------------------------------------------------------

    @classmethod
    def acquire(cls) -> SQLiteChild:
        """An idle child of this process, or a new one."""
        stale = []
        try:
            with cls._lock:
                while cls._idle:
                    child = cls._idle.pop()
                    if child.owner == os.getpid() and child.proc.poll() is None:
                        child.reused = True
                        return child
                    stale.append(child)
        finally:
            for child in stale:
                child.kill()
        return cls()

    def release(self) -> None:
        """Keep this child for the next use if it is alive and ready, else end it."""
        with self._lock:
            if self.proc.poll() is None and len(self._idle) < self.IDLE_MAX:
                self.expires_at = time.monotonic() + self.REUSE_FOR_S
                self._idle.append(self)
                self._start_reaper()
                self._changed.notify()
                return
        self.kill()

    @classmethod
    def _start_reaper(cls) -> None:
        """Start the reaper thread in this process, unless it runs (called holding the lock)."""
        if cls._reaper is not None and cls._reaper[0] == os.getpid() and cls._reaper[1].is_alive():
            return
        thread = threading.Thread(target=cls._reap, name="taskkit-sqlite-reaper", daemon=True)
        cls._reaper = (os.getpid(), thread)
        thread.start()

    @classmethod
    def _reap(cls) -> None:
        """End idle children once they expire; sleep until the next expiry (or a change)."""
        while True:
            with cls._lock:
                now = time.monotonic()
                expired = [c for c in cls._idle if c.expires_at <= now and c.owner == os.getpid()]
                for child in expired:
                    cls._idle.remove(child)
                if not expired:
                    waits = [c.expires_at - now for c in cls._idle if c.owner == os.getpid()]
                    cls._changed.wait(timeout=min(waits) if waits else None)
            for child in expired:
                child.kill()

    @classmethod
    def prestart(cls) -> None:
        """Start a child now, idle, unless one is idle already: its own start (Python, Arrow,
        ADBC) then happens while this process still prepares the work; it opens nothing."""
        with cls._lock:
            if cls._idle:
                return
        cls().release()

    @classmethod
    def idle_pids(cls) -> list[int]:
        """The process ids of the idle children (benchmarks read their CPU time and memory)."""
        with cls._lock:
            return [child.proc.pid for child in cls._idle]

    @classmethod
    def stop_all(cls) -> None:
        """End every idle child (at exit)."""
        with cls._lock:
            idle, cls._idle[:] = list(cls._idle), []
        for child in idle:
            child.kill()

    def kill(self) -> None:
        """End the child now and wait for it; a call blocked on it fails with ChildError."""
        if self.owner != os.getpid():
            return  # a forked copy's: its parent ends it
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.ended_because is None:
            self.ended_because = self._why_ended()
        for pipe in (self.stdin, self.stdout, self._stderr):
            with contextlib.suppress(OSError, ValueError):  # unsent rows in a broken pipe
                pipe.close()

    # --- messages ------------------------------------------------------------------------

    def send(self, message: Message, data: pa.Table | None = None) -> None:
        """Send one message (and its rows)."""
        self.send_encoded(protocol.encode(message, data))

    def send_encoded(self, parts: list[Any]) -> None:
        """Send a message encoded with ``protocol.encode`` (perhaps in another thread)."""
        try:
            for part in parts:
                self.stdin.write(memoryview(part))
            self.stdin.flush()
        except BrokenPipeError as exc:
            # It ended before it read this (killed, out of memory): say why, as receive() does.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
            self.kill()
            raise ChildError(
                f"the SQLite helper process ended ({self.ended_because})", gone=True
            ) from exc
        except (OSError, ValueError) as exc:  # ValueError: its pipe was closed (killed)
            raise ChildError(f"the SQLite helper process is gone ({exc})", gone=True) from exc

    def receive(self) -> tuple[Message, bytes | None]:
        """The next reply and its rows' bytes; an ``error`` reply raises ChildError."""
        try:
            received = protocol.read(self.stdout)
        except (protocol.ProtocolError, OSError, ValueError):  # ValueError: pipe closed
            received = None
        if received is None:
            # Its output ended: it is ending (or was killed). Let it finish its last words.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
            self.kill()
            raise ChildError(f"the SQLite helper process ended ({self.ended_because})", gone=True)
        message, payload = received
        if "error" in message:
            raise ChildError(str(message["error"]))
        return message, payload

    def call(self, message: Message) -> Message:
        """Send a request and return its reply."""
        self.send(message)
        return self.receive()[0]

    def _why_ended(self) -> str:
        """The last line the child wrote to stderr (a traceback's), else its exit status."""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            lines = self._stderr.read().decode(errors="replace").strip().splitlines()
            if lines:
                return lines[-1]
        code = self.proc.returncode
        return f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"


atexit.register(SQLiteChild.stop_all)


def _opened(request: Message) -> tuple[SQLiteChild, Message]:
    """A child that accepted ``request``, and its reply. An idle child may have died since its
    last use (killed by someone, out of memory): a new one is then asked in its place."""
    while True:
        child = SQLiteChild.acquire()
        try:
            return child, child.call(request)
        except ChildError as exc:
            if exc.gone:
                child.kill()
                if child.reused:
                    continue
            else:
                child.release()  # after an error reply it is ready for the next use
            raise
        except BaseException:
            child.kill()
            raise


def open_read(path: str) -> SQLiteChild:
    """A child holding a read transaction on the SQLite file at ``path``; ``close`` ends it."""
    # The child's working directory is another: paths go as absolute paths.
    request = {
        "op": "read",
        "path": os.path.abspath(path),
        "busy_timeout_ms": SQLITE_BUSY_TIMEOUT_MS,
    }
    return _opened(request)[0]


def close(child: SQLiteChild) -> None:
    """End the child's transaction and keep it for the next use (or end it, if it failed)."""
    try:
        child.call({"op": "close"})
    except ChildError:
        child.kill()
        return
    child.release()


def open_write(
    path: str,
    *,
    tables: list[str],
    empty: list[str],
    describe: list[str],
    defer_indexes_if_empty: str | None,
    check_foreign_keys: bool,
) -> tuple[SQLiteChild, list[list[list[Any]]]]:
    """A child holding the write lock on the SQLite file at ``path`` (``worker`` says what the
    arguments do), and the rows of each ``describe`` query. The caller then sends ``ingest``
    messages and ``commit``; on any failure it must ``kill`` the child (which rolls back)."""
    request = {
        "op": "write",
        "path": os.path.abspath(path),
        "busy_timeout_ms": SQLITE_BUSY_TIMEOUT_MS,
        "tables": tables,
        "empty": empty,
        "describe": describe,
        "defer_indexes_if_empty": defer_indexes_if_empty,
        "check_foreign_keys": check_foreign_keys,
    }
    child, reply = _opened(request)
    return child, reply["rows"]
