"""One owner per database: what taskkit keeps beside an engine, and how it opens SQLite.

An engine made by :func:`taskkit.connect` is the user's handle on a database. What taskkit
keeps beside it lives in one :class:`Owner` per engine, here and nowhere else:

* the PostgreSQL connect timeout (asyncpg takes it as a number, out of the URL; the ADBC
  reader connects on the engine's behalf and needs it too);
* whether the engine's prepared-statement clashes are explained (``taskkit._database.pooler``);
* the idle ``sqlite3`` connections of the in-process reader
  (``taskkit._frames.sqlite_inline_reader``);
* the grid's synchronous, read-only twin of a SQLite file engine (``taskkit._explore.source``).

An owner lives as long as its engine (keyed weakly, it holds no reference back) and lets go of
its connections when the engine is disposed or collected.

Every SQLite connection taskkit opens in this process is opened by ``open_sqlite`` or, when
SQLAlchemy's driver opened it, set up by ``prepare_sqlite``: one place for the settings (the
busy timeout, foreign keys for writers, ``query_only`` for readers, and the driver's own
transaction handling switched off), :mod:`taskkit._database.sqlite_file` (no SQLAlchemy:
``taskkit import`` into a new file uses it alone). The SQLite helper processes
(``taskkit._sqlite_child``) run ADBC's copy of SQLite in processes of their own. They are not
an owner's: a child serves any file, so the idle ones are a pool for the whole process, shared
by every engine (docs/development.md, "Who holds a database's connections", says why); they
take the same busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._database.sqlite_file import open_sqlite

__all__ = [
    "POSTGRES_CONNECT_TIMEOUT_S",
    "SQLITE_BEGIN_OPTION",
    "Owner",
    "ReadConnections",
    "find_owner",
    "owner",
]

#: The execution option that says how a SQLite transaction begins (DEFERRED by default).
SQLITE_BEGIN_OPTION = "sqlite_begin"
POSTGRES_CONNECT_TIMEOUT_S = 5.0


# ---------------------------------------------------------------------------------------------
# What an engine's owner holds.

# Idle connections kept per engine: enough for a couple of reads at once.
_IDLE_MAX = 2
# (path, (device, inode, process id)): what idle connections serve.
_Where = tuple[str, tuple[int, int, int]]


class ReadConnections:
    """Idle read-only ``sqlite3`` connections to one engine's file, kept between reads.

    ``generation`` moves on whenever the file or the process changes, or the engine is
    disposed (its owner then calls :meth:`close`); a connection from an earlier generation is
    closed when it comes back instead of kept. So a file replaced under the same name (a
    reset, a test's database) is never read through a connection to the old one, and a forked
    process opens its own.
    """

    def __init__(self) -> None:
        self._idle: list[sqlite3.Connection] = []
        self._generation = 0
        self._where: _Where | None = None
        self._lock = threading.Lock()

    def take(self, path: str) -> tuple[int, sqlite3.Connection]:
        """A connection to ``path`` (idle or new) and its generation, for :meth:`give_back`.

        Raises:
            OSError, sqlite3.Error: the file cannot be opened.
        """
        stat = os.stat(path)
        where = (path, (stat.st_dev, stat.st_ino, os.getpid()))
        with self._lock:
            if self._where != where:
                self._renew(where)
            generation = self._generation
            if self._idle:
                return generation, self._idle.pop()
        return generation, open_sqlite(path)

    def give_back(self, generation: int, conn: sqlite3.Connection, *, broken: bool) -> None:
        with self._lock:
            if not broken and self._generation == generation and len(self._idle) < _IDLE_MAX:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        with self._lock:
            self._renew(None)

    def _renew(self, where: _Where | None) -> None:
        idle, self._idle = self._idle, []
        forked = self._where is not None and self._where[1][2] != os.getpid()
        self._generation += 1
        self._where = where
        if not forked:  # a forked copy's connections belong to the parent process
            for conn in idle:
                conn.close()


class Owner:
    """What taskkit keeps beside one engine (see the module's documentation)."""

    def __init__(self) -> None:
        #: Seconds a PostgreSQL connection may take to open (``?connect_timeout=N``).
        self.connect_timeout = POSTGRES_CONNECT_TIMEOUT_S
        #: Whether a prepared-statement clash on this engine is explained (``pooler``).
        self.explains_clashes = False
        self.read_connections = ReadConnections()
        self._grid_engine: sa.Engine | None = None
        self._lock = threading.Lock()

    def grid_engine(self, path: str) -> sa.Engine:
        """The synchronous, read-only twin of the engine's SQLite file (made on first use):
        its connections come from :func:`open_sqlite`, its transactions begin DEFERRED unless
        the ``sqlite_begin`` execution option says otherwise."""
        with self._lock:
            if self._grid_engine is None:
                self._grid_engine = _read_only_engine(path)
            return self._grid_engine

    def let_go(self) -> None:
        """Close what the owner holds open (the engine was disposed or collected); it is
        opened again when next needed."""
        self.read_connections.close()
        with self._lock:
            grid, self._grid_engine = self._grid_engine, None
        if grid is not None:
            grid.dispose()


def _read_only_engine(path: str) -> sa.Engine:
    # The file's URL (a file database's pool, QueuePool), its connections from open_sqlite.
    url = sa.URL.create("sqlite", database=path)
    engine = sa.create_engine(url, creator=lambda: open_sqlite(path))

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


# One owner per (sync) engine, for as long as the engine lives.
_owners: weakref.WeakKeyDictionary[sa.Engine, Owner] = weakref.WeakKeyDictionary()
_owners_lock = threading.Lock()


def _sync(engine: sa.Engine | AsyncEngine) -> sa.Engine:
    return engine.sync_engine if isinstance(engine, AsyncEngine) else engine


def find_owner(engine: sa.Engine | AsyncEngine) -> Owner | None:
    """The owner of ``engine`` if taskkit has kept anything for it, else None."""
    return _owners.get(_sync(engine))


def owner(engine: sa.Engine | AsyncEngine) -> Owner:
    """The owner of ``engine``, made on first use."""
    sync = _sync(engine)
    with _owners_lock:
        found = _owners.get(sync)
        if found is None:
            found = _owners[sync] = Owner()
            sa.event.listen(sync, "engine_disposed", _disposed)
            weakref.finalize(sync, found.let_go)
        return found


def _disposed(engine: sa.Engine) -> None:
    found = _owners.get(engine)
    if found is not None:
        found.let_go()
